// SPDX-License-Identifier: BSD-2-Clause
/**
 * Faults in a running host kernel: TAP writes and UDP sends that fail
 * (VPC_HOSTD_FAIL_*_EVERY, test-only knobs of vpc-hostd) are dropped and
 * counted, traffic that can still flow flows, nothing crashes, and the
 * daemon's invariant check at shutdown passes.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Overlay } from './helpers/overlay.ts';

const VNI = 400;
const vm1 = { name: 'vm1', mac: '02:00:00:04:00:01', ip: '203.0.113.1' };
const vm2 = { name: 'vm2', mac: '02:00:00:04:00:02', ip: '203.0.113.2' };
const ov = new Overlay('ft', VNI);

before(async () => {
  // cn1's every 3rd UDP send fails; cn2's every 3rd TAP write does.
  await ov.addNode('cn1', [], { VPC_HOSTD_FAIL_UDP_SEND_EVERY: '3' });
  await ov.addNode('cn2', [], { VPC_HOSTD_FAIL_TAP_WRITE_EVERY: '3' });
  await ov.setup('cn1', [vm1]);
  await ov.setup('cn2', [vm2]);
  // Static entries on purpose: a failed TAP write every third could be an
  // ARP reply, and then how many pings get through would hang on the
  // guest's ARP retry timer; this test is about the data path's faults.
  ov.neighbours('vm1', [vm2]);
  ov.neighbours('vm2', [vm1]);
  const table = { [vm1.mac]: ov.vtep('cn1'), [vm2.mac]: ov.vtep('cn2') };
  for (const cn of ['cn1', 'cn2']) await ov.node[cn]!.call('resolve', { mode: 'auto', table });
});

after(async () => {
  assert.deepEqual(await ov.close(), [], 'no crash, invariants hold at shutdown');
});

test('failing UDP sends and TAP writes are dropped and counted; the rest flows', async () => {
  const r = ov.lab.run('ping', ['-n', '-q', '-c', '12', '-i', '0.05', '-W', '1', vm2.ip], { ns: 'vm1', allowFail: true });
  const got = Number(/(\d+) received/.exec(r.stdout)?.[1] ?? 0);
  assert.ok(got > 0 && got < 12, `some replies and some losses: ${r.stdout}`);
  const s1 = ((await ov.node.cn1!.call('stats')) as { switch: Record<string, number> }).switch;
  const s2 = ((await ov.node.cn2!.call('stats')) as { switch: Record<string, number> }).switch;
  assert.ok(s1.dropTx! > 0, `cn1 counted failed sends: ${JSON.stringify(s1)}`);
  assert.ok(s2.dropTx! > 0, `cn2 counted failed TAP writes: ${JSON.stringify(s2)}`);
  assert.equal(ov.hostd.cn1!.proc.exitCode, null);
  assert.equal(ov.hostd.cn2!.proc.exitCode, null);
});
