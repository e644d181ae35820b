// SPDX-License-Identifier: BSD-2-Clause
/**
 * Faults in a running host kernel: TAP writes (lone frames and merged TCP
 * segments alike) and UDP sends that fail (VPC_HOSTD_FAIL_*_EVERY, test-only
 * knobs of vpc-hostd) are dropped and counted, traffic that can still flow
 * flows, nothing crashes, and the daemon's invariant check at shutdown
 * passes.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Overlay } from './helpers/overlay.ts';
import { transfer } from './helpers/tcpxfer.ts';

const VNI = 400;
const vm1 = { name: 'vm1', mac: '02:00:00:04:00:01', ip: '203.0.113.1' };
const vm2 = { name: 'vm2', mac: '02:00:00:04:00:02', ip: '203.0.113.2' };
const vm3 = { name: 'vm3', mac: '02:00:00:04:00:03', ip: '203.0.113.3' };
/** cn3's every Nth TAP write fails: few enough that TCP to vm3 keeps going. */
const CN3_FAIL_EVERY = 10;
const ov = new Overlay('ft', VNI);

before(async () => {
  // cn1's every 3rd UDP send fails; cn2's every 3rd TAP write does.
  await ov.addNode('cn1', [], { VPC_HOSTD_FAIL_UDP_SEND_EVERY: '3' });
  await ov.addNode('cn2', [], { VPC_HOSTD_FAIL_TAP_WRITE_EVERY: '3' });
  await ov.addNode('cn3', [], { VPC_HOSTD_FAIL_TAP_WRITE_EVERY: String(CN3_FAIL_EVERY) });
  await ov.setup('cn1', [vm1]);
  await ov.setup('cn2', [vm2]);
  await ov.setup('cn3', [vm3]);
  // Static entries on purpose: a failed TAP write every third could be an
  // ARP reply, and then how many pings get through would hang on the
  // guest's ARP retry timer; this test is about the data path's faults.
  ov.neighbours('vm1', [vm2]);
  ov.neighbours('vm2', [vm1, vm3]);
  ov.neighbours('vm3', [vm2]);
  const table = { [vm1.mac]: ov.vtep('cn1'), [vm2.mac]: ov.vtep('cn2'), [vm3.mac]: ov.vtep('cn3') };
  for (const cn of ['cn1', 'cn2', 'cn3']) await ov.node[cn]!.call('resolve', { mode: 'auto', table });
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

/** Frames written to a VM's TAP that its kernel took in (a merged TCP frame is one). */
function tapFramesIn(vm: string): number {
  return Number(ov.lab.run('cat', [`/sys/class/net/${vm}/statistics/rx_packets`], { ns: vm }).stdout.trim());
}

/*
 * vpc-hostd writes a TCP flow's segments to a VM as one merged frame
 * (host_gro.c).  When that write fails, every segment in it is lost, and the
 * switch must count each one dropped (dropTx), not delivered (txLocal) as it
 * did once it had handed them over.
 */
test('a failed TAP write of merged TCP segments counts each segment dropped, not delivered', async () => {
  const sw = async () => ((await ov.node.cn3!.call('stats')) as { switch: Record<string, number> }).switch;
  const s0 = await sw();
  const written0 = tapFramesIn('vm3');
  // TCP resends what the failed writes lost: it arrives whole all the same.
  await transfer(ov.lab, 'vm2', 'vm3', vm3.ip, 5001, 1 << 20);
  const s1 = await sw();
  const written = tapFramesIn('vm3') - written0;
  const dropped = s1.dropTx! - s0.dropTx!;
  const delivered = s1.txLocal! - s0.txLocal!;
  const got = JSON.stringify({ written, dropped, delivered });
  // Of W writes, every Nth failed: at most W/N + 1 of them, W - failed = written.
  const failedWrites = Math.floor(written / (CN3_FAIL_EVERY - 1)) + 1;
  assert.ok(delivered >= written, `each write delivered at least one frame: ${got}`);
  assert.ok(dropped > failedWrites, `the failed writes held more segments than writes (at most ${failedWrites} failed): ${got}`);
  // Every frame the switch handed over from the underlay is one or the other.
  assert.equal(s1.rxRemote! - s0.rxRemote!, delivered + dropped, `rxRemote = txLocal + dropTx: ${got}`);
});
