// SPDX-License-Identifier: BSD-2-Clause
/**
 * The host kernel crashing (docs/runbook.md): two compute nodes with an
 * agent each, VMs pinging across them.  cn1's vpc-hostd is SIGKILLed: every
 * object of cn1 goes and its VM's TAP with it (as a panic takes a FreeBSD
 * node's module); the agent stays up and waits for a kernel.  A new
 * vpc-hostd on the same socket, the orchestrator re-creating the same
 * objects (same ids, MACs, interface names), the VM's interface configured
 * again: the agent re-attaches by itself and traffic flows again.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startAgent, type AgentProc } from './helpers/agent.ts';
import { Overlay, until } from './helpers/overlay.ts';

const VNI = 400;
const vm1 = { name: 'vm1', mac: '02:00:00:04:01:01', ip: '203.0.113.1' };
const vm2 = { name: 'vm2', mac: '02:00:00:04:02:02', ip: '203.0.113.2' };

const ov = new Overlay('hc', VNI);
const agents: Record<string, AgentProc> = {};

async function swstats(cn: string): Promise<Record<string, number>> {
  return ((await ov.node[cn]!.call('stats')) as { switch: Record<string, number> }).switch;
}

before(async () => {
  await ov.addNode('cn1');
  await ov.addNode('cn2');
  // The switches answer ARP from the directory: no static neighbour entries.
  await ov.setup('cn1', [vm1], { subnets: ['203.0.113.0/24'], gateway: { ipv4: '203.0.113.254' } });
  await ov.setup('cn2', [vm2], { subnets: ['203.0.113.0/24'], gateway: { ipv4: '203.0.113.254' } });
  const file = join(ov.tmp, 'mappings.json');
  writeFileSync(file, JSON.stringify({ version: 1, mappings: [
    { vni: VNI, mac: vm1.mac, vtep: ov.vtep('cn1'), ip: vm1.ip }, { vni: VNI, mac: vm2.mac, vtep: ov.vtep('cn2'), ip: vm2.ip }] }));
  for (const cn of ['cn1', 'cn2']) agents[cn] = await startAgent(['--resolver', 'file', '--mappings', file], ov.env(cn));
});

after(async () => {
  for (const a of Object.values(agents)) await a.stop('SIGKILL');
  assert.deepEqual(await ov.close(), [], 'the daemons stopped cleanly');
});

test('vpc-hostd killed: objects and TAPs gone, the agent waits; the same objects re-created: the agent re-attaches and traffic flows', async () => {
  assert.ok(ov.ping('vm1', vm2.ip), 'traffic before');
  const ids = { ...ov.ids.cn1! };

  await ov.crashNode('cn1');
  // The VM's interface went with the kernel.
  assert.notEqual(ov.lab.run('ip', ['-n', ov.lab.ns('vm1'), 'link', 'show', 'vm1'], { allowFail: true }).status, 0, 'the TAP is gone');
  assert.equal(ov.ping('vm1', vm2.ip, { wait: 1 }), false, 'no traffic while cn1 has no kernel');
  await agents.cn1!.waitLog((l) => l.msg === 'the kernel closed the upcall channel; reattaching', 'the agent to notice');
  assert.equal(agents.cn1!.proc.exitCode, null, 'the agent stays up');

  await ov.recreateNode('cn1', [vm1]);
  assert.deepEqual(ov.ids.cn1, ids, 'the same objects: same ids');
  const again = await agents.cn1!.waitLog((l) => l.msg === 'attached as the upcall reader again', 'the agent to re-attach by itself', 30_000);
  await until(() => ov.ping('vm1', vm2.ip), 'traffic again', 30_000);
  // vm2's entries in the new kernel came from the same agent (push mode, the
  // default): pushed once it re-attached (or once it met the new switch, if
  // it re-attached before the switch was made again), or answered on a miss.
  const s = await swstats('cn1');
  const pushed = agents.cn1!.logs.slice(agents.cn1!.logs.indexOf(again))
    .filter((l) => l.msg === 'mappings pushed to the switches').reduce((n, l) => n + Number(l.cam), 0);
  assert.ok(pushed + s.answers! >= 1 && s.txRemote! >= 1, `pushed ${pushed}, ${JSON.stringify(s)}`);
  assert.equal((await ov.node.cn1!.call('camGet', { mac: vm2.mac }) as { vtep?: string }).vtep, ov.vtep('cn2'));
  assert.equal(agents.cn1!.proc.exitCode, null);
});
