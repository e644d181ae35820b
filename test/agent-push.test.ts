// SPDX-License-Identifier: BSD-2-Clause
/**
 * Push mode (the default; --no-push turns it off): every mapping of a VNI with a switch on
 * the node is installed ahead of traffic, CAM and neighbour entries both, so
 * the first frame to a known VM never misses.  Two compute nodes, a VM on
 * each, one mapping file; the agent on cn1 pushes, cn2's agent runs with
 * --no-push for contrast.
 *
 *  - before any frame, cn1 holds every remote mapping of its VNI (and none
 *    of another VNI, nor its own VM's, which is local);
 *  - the VMs ping across nodes with no upcall on cn1 (cn2 misses: its agent
 *    only answers);
 *  - a mapping added to the file is installed without a frame; one removed
 *    goes; one moved follows;
 *  - the per-switch cap: with --push-cap 3, three entries are pushed and the
 *    rest still resolve on a miss.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startAgent, type AgentProc } from './helpers/agent.ts';
import { Overlay, until, type VmSpec } from './helpers/overlay.ts';

const VNI = 470;
const SUBNETS = ['203.0.113.0/24', '2001:db8:47::/64'];
const vm1: VmSpec = { name: 'vm1', mac: '02:00:00:47:00:01', ip: '203.0.113.11', ip6: '2001:db8:47::11' };
const vm2: VmSpec = { name: 'vm2', mac: '02:00:00:47:00:02', ip: '203.0.113.21', ip6: '2001:db8:47::21' };
/** VMs that exist only in the directory (on a third node): what push installs. */
const ghosts = Array.from({ length: 20 }, (_, i) => ({
  vni: VNI, mac: `02:00:00:47:01:${(i + 1).toString(16).padStart(2, '0')}`, vtep: '198.51.100.77', ip: `203.0.113.${100 + i}`,
}));
const otherVni = { vni: VNI + 1, mac: '02:00:00:48:00:01', vtep: '198.51.100.78' };

const ov = new Overlay('ap', VNI);
const agents: Record<string, AgentProc> = {};
let file: string;
let extra: Array<Record<string, unknown>> = [];

function writeMappings(ghostsNow: ReadonlyArray<(typeof ghosts)[number]> = ghosts): void {
  const mappings = [
    { vni: VNI, mac: vm1.mac, vtep: ov.vtep('cn1'), ip: vm1.ip, ip6: vm1.ip6 },
    { vni: VNI, mac: vm2.mac, vtep: ov.vtep('cn2'), ip: vm2.ip, ip6: vm2.ip6 },
    ...ghostsNow, otherVni, ...extra,
  ];
  writeFileSync(file, JSON.stringify({ version: 1, mappings }, null, 2));
}

type Cam = { vtep?: string; kind?: string; error?: string };
const camGet = async (cn: string, mac: string) => (await ov.node[cn]!.call('camGet', { mac })) as Cam;
const nbrGet = async (cn: string, ip: string) => (await ov.node[cn]!.call('nbrGet', { ip })) as { kind?: string; mac?: string; error?: string };
const swstats = async (cn: string) => ((await ov.node[cn]!.call('stats')) as { switch: Record<string, number> }).switch;

before(async () => {
  file = join(ov.tmp, 'mappings.json');
  await ov.addNode('cn1');
  await ov.addNode('cn2');
  await ov.setup('cn1', [vm1], { subnets: SUBNETS, addresses: true });
  await ov.setup('cn2', [vm2], { subnets: SUBNETS, addresses: true });
  writeMappings();
  const args = ['--resolver', 'file', '--mappings', file, '--ttl', '600000', '--log-level', 'info'];
  agents.cn1 = await startAgent(args, ov.env('cn1'));     // push mode is the default
  agents.cn2 = await startAgent([...args, '--no-push'], ov.env('cn2'));
});

after(async () => {
  for (const a of Object.values(agents)) await a.stop('SIGKILL');
  assert.deepEqual(await ov.close(), [], 'the daemons stopped cleanly');
});

describe('push mode: mappings installed ahead of traffic', () => {
  test('before any frame, every remote mapping of the VNI is installed, CAM and neighbour entries', async () => {
    // The agent pushes before it says it is attached.
    const s = await swstats('cn1');
    assert.equal(s.misses, 0, 'no frame missed');
    assert.equal((await camGet('cn1', vm2.mac)).vtep, ov.vtep('cn2'));
    for (const g of ghosts) {
      assert.equal((await camGet('cn1', g.mac)).vtep, g.vtep, g.mac);
      const n = await nbrGet('cn1', g.ip);
      assert.deepEqual([n.kind, n.mac], ['found', g.mac], g.ip);
    }
    const n6 = await nbrGet('cn1', vm2.ip6!);
    assert.deepEqual([n6.kind, n6.mac], ['found', vm2.mac]);
    assert.equal((await camGet('cn1', vm1.mac)).kind, 'local', 'its own VM stays local');
    assert.equal((await nbrGet('cn1', vm1.ip!)).kind, 'local');
    assert.ok((await camGet('cn1', otherVni.mac)).error, 'no switch of VNI 471 here: nothing of it installed');
    assert.equal(await agents.cn1!.metric('vpc_agent_push_entries'), ghosts.length + 1);
    assert.ok(await agents.cn1!.metric('vpc_agent_push_installed_total', { table: 'neighbour' }) >= ghosts.length + 2);
    // The agent without push installed nothing.
    assert.ok((await camGet('cn2', vm1.mac)).error);
  });

  test('the VMs ping across nodes: no upcall on the pushing node, misses on the other', async () => {
    assert.ok(ov.ping('vm1', vm2.ip!), 'vm1 -> vm2');
    assert.ok(ov.ping('vm2', vm1.ip!), 'vm2 -> vm1');
    const s1 = await swstats('cn1');
    assert.equal(s1.upcalls, 0, 'cn1 resolved nothing on demand');
    assert.equal(s1.l3Upcalls, 0);
    assert.equal(await agents.cn1!.metric('vpc_agent_upcalls_total'), 0);
    const s2 = await swstats('cn2');
    assert.ok(s2.upcalls! + s2.l3Upcalls! >= 1, 'cn2 (no push) asked its agent');
  });

  test('a mapping added to the file is installed with no frame; a removed one goes; a moved one follows', async () => {
    const added = { vni: VNI, mac: '02:00:00:47:02:01', vtep: '198.51.100.79', ip: '203.0.113.200' };
    extra = [added];
    writeMappings();
    await until(async () => (await camGet('cn1', added.mac)).vtep === added.vtep, 'the new mapping installed');
    await until(async () => (await nbrGet('cn1', added.ip)).mac === added.mac, 'its address installed');
    // A move of a pushed MAC has one owner, the pusher: the installer does
    // not follow it too (that made every move cost twice the kernel calls).
    const followed = () => agents.cn1!.metric('vpc_agent_entries_pushed_total', { action: 'update' });
    const pushedCam = () => agents.cn1!.metric('vpc_agent_push_installed_total', { table: 'cam' });
    const [followed0, pushedCam0] = [await followed(), await pushedCam()];
    extra = [{ ...added, vtep: '198.51.100.80' }];
    writeMappings();
    await until(async () => (await camGet('cn1', added.mac)).vtep === '198.51.100.80', 'the moved mapping followed');
    assert.ok(await pushedCam() > pushedCam0, 'the pusher set the moved entry');
    assert.equal(await followed(), followed0, 'the installer left the pushed entry to the pusher');
    extra = [];
    writeMappings();
    await until(async () => (await camGet('cn1', added.mac)).error !== undefined, 'the removed mapping gone');
    await until(async () => (await nbrGet('cn1', added.ip)).error !== undefined, 'its address gone');
    const s = await swstats('cn1');
    assert.equal(s.upcalls, 0, 'still no upcall');
  });

  test('a reload that moves and removes more mappings than are looked up one by one: every pushed entry follows', async () => {
    // 18 removed (only the installer drops entries: the pusher installs), 2 moved: more than
    // FEW_CHANGES (16) in one reload, so they are compared against one view of the switch's table.
    const kept = ghosts.slice(0, 2).map((g) => ({ ...g, vtep: '198.51.100.81' }));
    const gone = ghosts.slice(2);
    const followed = () => agents.cn1!.logs.filter((l) => l.msg === 'mappings changed: installed entries follow').length;
    const before = followed();
    writeMappings(kept);
    for (const g of kept) await until(async () => (await camGet('cn1', g.mac)).vtep === g.vtep, `${g.mac} moved`);
    for (const g of gone) {
      await until(async () => (await camGet('cn1', g.mac)).error !== undefined, `${g.mac} dropped`);
      await until(async () => (await nbrGet('cn1', g.ip)).error !== undefined, `${g.ip} dropped`);
    }
    for (const g of kept) assert.equal((await nbrGet('cn1', g.ip)).mac, g.mac, 'a moved mapping keeps its address');
    assert.ok(followed() > before, 'followed against a view of the table, not entry by entry');
    assert.equal((await swstats('cn1')).upcalls, 0, 'still no upcall');
    // Back as they were, for the next test.
    writeMappings();
    for (const g of ghosts) await until(async () => (await camGet('cn1', g.mac)).vtep === g.vtep, `${g.mac} back`);
  });

  test('--push-cap bounds what is pushed per switch; the rest resolves on a miss', async () => {
    await agents.cn1!.stop('SIGTERM');
    // Nothing left of the first agent: its neighbour entries would bring their CAM entries back.
    await ov.node.cn1!.call('nbrFlush');
    await ov.node.cn1!.call('camFlush');
    agents.cn1 = await startAgent(['--resolver', 'file', '--mappings', file, '--ttl', '600000', '--log-level', 'info', '--push', '--push-cap', '3'], ov.env('cn1'));
    assert.equal(await agents.cn1.metric('vpc_agent_push_entries'), 3);
    assert.equal(await agents.cn1.metric('vpc_agent_push_over_cap_total'), 1);
    const cams = await Promise.all([vm2.mac, ...ghosts.map((g) => g.mac)].map((m) => camGet('cn1', m)));
    assert.equal(cams.filter((c) => c.kind === 'remote').length, 3);
    // vm2 is beyond the cap or not: either way vm1 reaches it.
    assert.ok(ov.ping('vm1', vm2.ip!), 'vm1 -> vm2');
    assert.equal((await camGet('cn1', vm2.mac)).vtep, ov.vtep('cn2'));
  });
});
