// SPDX-License-Identifier: BSD-2-Clause
/**
 * vpc-agent with the etcd resolver, against a real 3-member etcd cluster
 * (Debian's etcd-server: three processes on loopback, a data directory
 * each): three compute nodes in network namespaces, an agent on each.
 * Resolution and ping; a mapping moved in etcd that the entries follow at
 * once; the cluster's leader killed under a miss storm (the agents answer
 * from their copy, follow the new leader, lose nothing); the whole cluster
 * killed (degraded, traffic keeps flowing, nothing crashes) and back
 * (recovered); an agent killed in the middle of a miss storm, with the next
 * one answering everything that was pending.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EtcdClient, openDirectory, type Directory } from '../src/directory/index.ts';
import { startAgent, type AgentProc } from './helpers/agent.ts';
import { EtcdServer } from './helpers/etcd.ts';
import { Overlay, sleep, until } from './helpers/overlay.ts';

const VNI = 200;
const vm1 = { name: 'vm1', mac: '02:00:00:01:00:01', ip: '203.0.113.1' };
const vm2 = { name: 'vm2', mac: '02:00:00:01:00:02', ip: '203.0.113.2' };
const framesPy = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, 'fixtures', 'frames.py');

const ov = new Overlay('ag', VNI);
const etcd = new EtcdServer();
const agents: Record<string, AgentProc> = {};
let dir: Directory;

function agentArgs(): string[] {
  // The miss path (upcalls) is what this tests: push mode off (test/agent-push.test.ts tests it).
  return ['--resolver', 'etcd', '--etcd-endpoints', etcd.endpoints.join(','), '--ttl', '60000', '--log-level', 'info', '--no-push'];
}

async function camGet(cn: string, mac: string): Promise<{ vtep?: string; error?: string }> {
  return (await ov.node[cn]!.call('camGet', { mac })) as { vtep?: string; error?: string };
}

async function swstats(cn: string): Promise<Record<string, number>> {
  return ((await ov.node[cn]!.call('stats')) as { switch: Record<string, number> }).switch;
}

before(async () => {
  await etcd.start();
  dir = openDirectory({ kind: 'etcd', endpoints: etcd.endpoints });
  // The default upcall timeouts (3 s with a reader, 30 s without).
  for (const cn of ['cn1', 'cn2', 'cn3']) await ov.addNode(cn);
  // The switches answer ARP from the directory: no static neighbour entries.
  await ov.setup('cn1', [vm1], { subnets: ['203.0.113.0/24'], gateway: { ipv4: '203.0.113.254' } });
  await ov.setup('cn2', [vm2], { subnets: ['203.0.113.0/24'], gateway: { ipv4: '203.0.113.254' } });
  await ov.setup('cn3', [], { subnets: ['203.0.113.0/24'], gateway: { ipv4: '203.0.113.254' } });
  await dir.set({ vni: VNI, mac: vm1.mac, vtep: ov.vtep('cn1'), ip: vm1.ip });
  await dir.set({ vni: VNI, mac: vm2.mac, vtep: ov.vtep('cn2'), ip: vm2.ip });
  for (const cn of ['cn1', 'cn2', 'cn3']) agents[cn] = await startAgent(agentArgs(), ov.env(cn));
});

after(async () => {
  for (const a of Object.values(agents)) await a.stop('SIGKILL');
  dir?.close();
  await etcd.stop();
  assert.deepEqual(await ov.close(), [], 'the daemons stopped cleanly');
});

describe('vpc-agent with etcd, three compute nodes', () => {
  test('the agents resolve from etcd: ping works', async () => {
    assert.ok(ov.ping('vm1', vm2.ip), 'ping');
    assert.equal((await camGet('cn1', vm2.mac)).vtep, ov.vtep('cn2'));
    assert.ok(await agents.cn1!.metric('vpc_agent_answers_total', { result: 'found' }) >= 1);
    assert.ok(await agents.cn1!.metric('vpc_agent_miss_to_install_seconds_count') >= 1);
  });

  test('a mapping moved in etcd: the entry follows at once and traffic goes to the new node', async () => {
    // vm2 "migrates" to cn3: same MAC and IP, a new vmnic there, the old port gone.
    await ov.node.cn3!.call('addVm', { mac: vm2.mac, ifname: 'vm2b' });
    ov.plugVm('cn3', { name: 'vm2b', mac: vm2.mac, ip: vm2.ip });
    await ov.node.cn2!.call('delVm', { mac: vm2.mac });
    const upcalls = (await swstats('cn1')).upcalls;
    await dir.set({ vni: VNI, mac: vm2.mac, vtep: ov.vtep('cn3'), ip: vm2.ip });
    await until(async () => (await camGet('cn1', vm2.mac)).vtep === ov.vtep('cn3'), 'cn1 to follow the move');
    assert.ok(ov.ping('vm1', vm2.ip), 'ping reaches vm2 on cn3');
    // Pushed by the agent, not asked for again (the entry's 60 s TTL is far off).
    assert.equal((await swstats('cn1')).upcalls, upcalls, 'no new upcall on cn1: the entry was updated in place');
    assert.ok(await agents.cn1!.metric('vpc_agent_entries_pushed_total', { action: 'update' }) >= 1);
    // The upcall relay's copy of the mappings followed the watch too: a
    // fresh miss is answered by it, with the new VTEP.
    const relayed = await agents.cn1!.metric('vpc_agent_relay_answers_total');
    await ov.node.cn1!.call('camFlush');
    ov.lab.run('/usr/bin/python3', [framesPy, 'send', 'vm1', vm2.mac, vm1.mac, '1'], { ns: 'vm1' });
    await until(async () => (await agents.cn1!.metric('vpc_agent_relay_answers_total')) === relayed + 1, 'the relay to answer');
    assert.equal((await camGet('cn1', vm2.mac)).vtep, ov.vtep('cn3'));
  });

  test('etcd: an address has one MAC within a VNI (the index refuses a second, changes nothing); moving it goes through', async () => {
    const a = '02:00:00:01:00:31';
    const b = '02:00:00:01:00:32';
    await dir.set({ vni: VNI, mac: a, vtep: ov.vtep('cn2'), ip: '203.0.113.31', ip6: '2001:db8:31::1' });
    await assert.rejects(dir.set({ vni: VNI, mac: b, vtep: ov.vtep('cn2'), ip: '203.0.113.31' }),
      /EADDRINUSE|VNI 200 IP 203.0.113.31 is already mapped to MAC 02:00:00:01:00:31/);
    await assert.rejects(dir.set({ vni: VNI, mac: b, vtep: ov.vtep('cn2'), ip6: '2001:db8:31::1' }), /already mapped to MAC 02:00:00:01:00:31/);
    assert.equal(await dir.get(VNI, b), undefined, 'nothing written');
    assert.equal((await dir.getByIp(VNI, '203.0.113.31'))?.mac, a);
    // The same address in another VNI is another address.
    await dir.set({ vni: VNI + 1, mac: b, vtep: ov.vtep('cn2'), ip: '203.0.113.31' });
    // Moving it: the old mapping lets go (its index key goes), the new one takes it.
    await dir.set({ vni: VNI, mac: a, vtep: ov.vtep('cn2'), ip6: '2001:db8:31::1' });
    await dir.set({ vni: VNI, mac: b, vtep: ov.vtep('cn2'), ip: '203.0.113.31' });
    assert.equal((await dir.getByIp(VNI, '203.0.113.31'))?.mac, b);
    assert.equal(await dir.del(VNI, b), true);
    assert.equal(await dir.getByIp(VNI, '203.0.113.31'), undefined, 'del takes the index key too');
    await dir.set({ vni: VNI, mac: '02:00:00:01:00:33', vtep: ov.vtep('cn2'), ip: '203.0.113.31' });
    for (const [v, m] of [[VNI, a], [VNI, '02:00:00:01:00:33'], [VNI + 1, b]] as const) await dir.del(v, m);
  });

  test('a load reads the directory in pages (here of 3 keys), in key order, as one read of it all does', async () => {
    const vni = 297;
    const macs = Array.from({ length: 10 }, (_, i) => `02:00:00:29:00:${(i + 1).toString(16).padStart(2, '0')}`);
    let last = 0n;
    for (const mac of macs) last = (await dir.set({ vni, mac, vtep: ov.vtep('cn2') })).revision;
    const paged = new EtcdClient({ endpoints: etcd.endpoints, loadPageKeys: 3 });
    const whole = new EtcdClient({ endpoints: etcd.endpoints, loadPageKeys: 100_000 });
    try {
      const r = await paged.load(vni);
      assert.deepEqual(r.mappings.map((m) => m.mac), macs, 'all ten, in key order, none twice');
      assert.deepEqual(r.bad, []);
      assert.ok(r.revision >= last, 'read at a revision that has every write');
      const fives = new EtcdClient({ endpoints: etcd.endpoints, loadPageKeys: 5 });
      try {
        assert.equal((await fives.load(vni)).mappings.length, 10, 'pages of 5: the last one full');
      } finally {
        fives.close();
      }
      assert.throws(() => new EtcdClient({ endpoints: etcd.endpoints, loadPageKeys: 0 }), /loadPageKeys: expected a whole number >= 1, got 0/);
      assert.throws(() => new EtcdClient({ endpoints: etcd.endpoints, rangeDecoder: 'fast' as 'raw' }), /rangeDecoder: expected 'raw' or 'etcd3', got fast/);
      const [a, b] = [await paged.load(), await whole.load()];
      assert.deepEqual(a, b, 'every VNI: the same mappings and revision in pages as in one read');
    } finally {
      paged.close();
      whole.close();
      for (const mac of macs) await dir.del(vni, mac);
    }
  });

  test('a mapping removed from etcd: the entry is dropped at once', async () => {
    const ghost = '02:00:00:01:00:09';
    await dir.set({ vni: VNI, mac: ghost, vtep: ov.vtep('cn2') });
    await ov.node.cn1!.call('camSet', { entries: [{ dst: ghost, vtep: ov.vtep('cn2'), ttlMs: 60000 }] });
    await dir.del(VNI, ghost);
    await until(async () => (await camGet('cn1', ghost)).error === 'ENOENT', 'the entry to go');
    // Gone from the relay's copy as well: a miss for it is the agent's to answer (not found).
    const relayed = await agents.cn1!.metric('vpc_agent_relay_answers_total');
    const notFound = await agents.cn1!.metric('vpc_agent_answers_total', { result: 'not_found' });
    ov.lab.run('/usr/bin/python3', [framesPy, 'send', 'vm1', ghost, vm1.mac, '1'], { ns: 'vm1' });
    await until(async () => (await agents.cn1!.metric('vpc_agent_answers_total', { result: 'not_found' })) === notFound + 1, 'the negative answer');
    assert.equal(await agents.cn1!.metric('vpc_agent_relay_answers_total'), relayed);
  });

  test("the cluster's leader killed under a miss storm: answers from the agent's copy, the new leader followed, nothing lost", async (t) => {
    const macs = Array.from({ length: 200 }, (_, i) => `02:00:00:05:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`);
    for (let i = 0; i < macs.length; i += 50) await Promise.all(macs.slice(i, i + 50).map((mac) => dir.set({ vni: VNI, mac, vtep: ov.vtep('cn2') })));
    // Every agent has them in its copy before the leader goes.
    const last = await dir.get(VNI, macs.at(-1)!);
    await until(async () => (await agents.cn1!.metric('vpc_agent_degraded')) === 0, 'cn1 in step');
    const before = await swstats('cn1');
    const leader = await etcd.leader();
    assert.ok(leader >= 0, 'the cluster has a leader');
    await etcd.killMember(leader);
    ov.lab.run('/usr/bin/python3', [framesPy, 'send', 'vm1', macs.join(','), vm1.mac, '3'], { ns: 'vm1' });
    await until(async () => (await swstats('cn1')).answers! - before.answers! === macs.length, 'every miss of the storm answered', 30_000);
    const s = await swstats('cn1');
    const d = (k: string) => s[k]! - before[k]!;
    assert.equal(d('upcalls'), macs.length);
    assert.equal(d('negative'), 0, 'none answered "not found"');
    assert.equal(d('timeouts'), 0, 'none timed out');
    assert.equal(d('lost'), 0, 'none lost');
    // Each MAC's frames are held until its answer (a frame that comes after
    // the answer goes straight out): all of them go out, none is lost.
    assert.equal(d('released'), d('held'), 'every held frame went out');
    assert.equal(d('holdDrops'), 0, 'none dropped');
    assert.equal(d('txRemote'), macs.length * 3, 'every frame went out');
    for (const mac of [macs[0]!, macs.at(-1)!]) assert.equal((await camGet('cn1', mac)).vtep, ov.vtep('cn2'));

    // The survivors elect a new leader; a change made through it reaches the agents.
    let next = -1;
    await until(async () => { next = await etcd.leader(); return next >= 0 && next !== leader; }, 'a new leader', 30_000);
    t.diagnostic(`leader m${leader} killed; m${next} leads now (revision before: ${String(last?.revision)})`);
    await dir.set({ vni: VNI, mac: macs[7]!, vtep: ov.vtep('cn3') });
    await until(async () => (await camGet('cn1', macs[7]!)).vtep === ov.vtep('cn3'), 'cn1 to follow a change made after the leader died', 30_000);
    for (const a of Object.values(agents)) assert.equal(a.proc.exitCode, null, 'no agent crashed');
    // The cluster whole again for what follows.
    await etcd.startMember(leader);
    await until(async () => (await agents.cn1!.metric('vpc_agent_degraded')) === 0, 'cn1 not degraded', 30_000);
  });

  test('etcd killed: degraded, existing traffic keeps flowing, nothing crashes; back: recovered', async () => {
    await etcd.kill();
    await until(async () => (await agents.cn1!.metric('vpc_agent_degraded')) === 1, 'cn1 degraded', 15_000);
    await agents.cn1!.waitLog((l) => l.event === 'degraded', 'the degraded log line');
    // The kernel's lifecycle event (devctl on FreeBSD; vpc-hostd logs it).
    await until(async () => /event system=VPC subsystem=agent type=DEGRADED detail=etcd:http:\/\/127\.0\.0\.1:\d+/.test(ov.hostd.cn1!.stderr()),
      'the DEGRADED lifecycle event');
    assert.ok(ov.ping('vm1', vm2.ip, { count: 3, interval: 0.2 }), 'traffic on installed entries flows');
    // A new miss is answered from the agent's copy of the directory.
    await ov.node.cn1!.call('camFlush');
    assert.ok(ov.ping('vm1', vm2.ip), 'answered from cache while degraded');
    for (const a of Object.values(agents)) assert.equal(a.proc.exitCode, null, 'no agent crashed');
    await etcd.start();
    await until(async () => (await agents.cn1!.metric('vpc_agent_degraded')) === 0, 'cn1 recovered', 20_000);
    await agents.cn1!.waitLog((l) => l.event === 'recovered', 'the recovered log line');
    await until(async () => /event system=VPC subsystem=agent type=RECOVERED detail=etcd:/.test(ov.hostd.cn1!.stderr()),
      'the RECOVERED lifecycle event');
    // And it follows changes again.
    await dir.set({ vni: VNI, mac: vm2.mac, vtep: ov.vtep('cn3'), port: 4789 });
    assert.ok(ov.ping('vm1', vm2.ip));
  });

  test('an agent killed with SIGKILL during a miss storm, the next one started 5 s later (past the 3 s timeout): all answered', async () => {
    const macs = Array.from({ length: 200 }, (_, i) => `02:00:00:02:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`);
    for (const mac of macs) await dir.set({ vni: VNI, mac, vtep: ov.vtep('cn2') });
    const before = await swstats('cn1');
    // Freeze the agent so the requests pile up unanswered, then kill it.
    agents.cn1!.proc.kill('SIGSTOP');
    ov.lab.run('/usr/bin/python3', [framesPy, 'send', 'vm1', macs.join(','), vm1.mac, '3'], { ns: 'vm1' });
    await until(async () => (await swstats('cn1')).upcalls! - before.upcalls! === macs.length, 'the storm of upcalls');
    await agents.cn1!.stop('SIGKILL');
    // Longer than the timeout a held request has (3 s): without a reader the
    // kernel keeps them for the orphan timeout (30 s) instead.
    await sleep(5000);
    assert.ok(((await ov.node.cn1!.call('stats')) as { upcalls: { pending: number } }).upcalls.pending >= macs.length,
      'all still pending while no agent is there');
    agents.cn1 = await startAgent(agentArgs(), ov.env('cn1'));
    await until(async () => (await swstats('cn1')).answers! - before.answers! === macs.length, 'every request answered', 20_000);
    const s = await swstats('cn1');
    const d = (k: string) => s[k]! - before[k]!;
    assert.equal(d('upcalls'), macs.length);
    assert.equal(d('answers'), macs.length, 'all answered');
    assert.equal(d('timeouts'), 0, 'none timed out');
    assert.equal(d('lost'), 0, 'none lost');
    // Each MAC's frames are held until its answer (a frame that comes after
    // the answer goes straight out): all of them go out, none is lost.
    assert.equal(d('released'), d('held'), 'every held frame went out');
    assert.equal(d('holdDrops'), 0, 'none dropped');
    assert.equal(d('txRemote'), macs.length * 3, 'every frame went out');
    await sleep(50);
  });
});
