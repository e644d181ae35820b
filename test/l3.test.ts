// SPDX-License-Identifier: BSD-2-Clause
/**
 * ARP and neighbour discovery answered by the switch from the directory, on
 * the host kernel with real namespaces: two compute nodes, two VMs on each,
 * one switch per node with the subnet's IPv4 and IPv6 prefixes, vpc-agent
 * on each node answering L3 upcalls from one mapping file.  The VMs'
 * addresses are configured statically in their namespaces (DHCP is another
 * test's), and no VM has a static neighbour entry: every address is
 * resolved by ARP or NS.
 *
 *  - every VM pings every other and the gateway; no ARP and no broadcast
 *    crosses the underlay (tshark);
 *  - IPv6: NS/NA resolved across nodes, ping6 between nodes;
 *  - bad ARP and ND (crafted frames): each counted, nothing answered,
 *    nothing installed, no upcall;
 *  - a mapping moves to a new MAC: the VM that used it gets a gratuitous ARP
 *    and reaches the new MAC;
 *  - the agent killed while L3 upcalls are pending: the next one answers
 *    them all.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startAgent, type AgentProc } from './helpers/agent.ts';
import { arpFrame, nsFrame, slla } from './helpers/l3frames.ts';
import { Overlay, sleep, until, type VmSpec } from './helpers/overlay.ts';
import { stopProcess } from './helpers/proc.ts';

const VNI = 400;
const SUBNETS = ['203.0.113.0/24', '2001:db8:40::/64'];
const GW = '203.0.113.1';
const vm = (n: number): VmSpec => ({
  name: `vm${n}`, mac: `02:00:00:04:00:${n.toString(16).padStart(2, '0')}`, ip: `203.0.113.${n}`, ip6: `2001:db8:40::${n}`,
});
const VMS = { cn1: [vm(11), vm(12)], cn2: [vm(21), vm(22)] };
const ALL = [...VMS.cn1, ...VMS.cn2];
const framesPy = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, 'fixtures', 'frames.py');

const ov = new Overlay('l3', VNI);
const agents: Record<string, AgentProc> = {};
let file: string;
const extra: Array<Record<string, unknown>> = [];

function writeMappings(vms: VmSpec[]): void {
  const where = (v: VmSpec) => (VMS.cn1.some((x) => x.mac === v.mac) ? 'cn1' : 'cn2');
  const mappings = [
    ...vms.map((v) => ({ vni: VNI, mac: v.mac, vtep: ov.vtep(v.name === 'vm23' ? 'cn2' : where(v)), ip: v.ip, ip6: v.ip6 })),
    ...extra,
  ];
  writeFileSync(file, JSON.stringify({ version: 1, mappings }, null, 2));
}

function agentArgs(): string[] {
  // The miss path (upcalls) is what this tests: push mode off (test/agent-push.test.ts tests it).
  return ['--resolver', 'file', '--mappings', file, '--ttl', '600000', '--negative-ttl', '600000', '--log-level', 'info', '--no-push'];
}

async function swstats(cn: string): Promise<Record<string, number>> {
  return ((await ov.node[cn]!.call('stats')) as { switch: Record<string, number> }).switch;
}

async function upcalls(cn: string): Promise<{ pending: number; requeued: number }> {
  return ((await ov.node[cn]!.call('stats')) as { upcalls: { pending: number; requeued: number } }).upcalls;
}

function sendRaw(from: string, frames: Buffer[]): void {
  ov.lab.run('/usr/bin/python3', [framesPy, 'raw', from, frames.map((f) => f.toString('hex')).join(',')], { ns: from });
}

function neigh(from: string, ip: string): string {
  return ov.lab.run('ip', ['neigh', 'show', ip, 'dev', from], { ns: from, allowFail: true }).stdout.trim();
}

before(async () => {
  file = join(ov.tmp, 'mappings.json');
  // Tests below stop cn1's agent (SIGSTOP) while misses are raised, so the
  // requests wait on an attached reader: 30 s rather than the default 3 s
  // keeps them from expiring however slowly the machine runs meanwhile.
  await ov.addNode('cn1', ['--upcall-timeout-ms', '30000']);
  await ov.addNode('cn2');
  await ov.setup('cn1', VMS.cn1, { subnets: SUBNETS, addresses: true });
  await ov.setup('cn2', VMS.cn2, { subnets: SUBNETS, addresses: true });
  writeMappings(ALL);
  for (const cn of ['cn1', 'cn2']) agents[cn] = await startAgent(agentArgs(), ov.env(cn));
});

after(async () => {
  for (const a of Object.values(agents)) await a.stop('SIGKILL');
  assert.deepEqual(await ov.close(), [], 'the daemons stopped cleanly');
});

describe('ARP and ND answered by the switch, two compute nodes', () => {
  test('every VM pings every other and the gateway; no ARP or broadcast crosses the underlay', async () => {
    const failures: string[] = [];
    const rows = await ov.capture('udp port 4789', async () => {
      for (const a of ALL) {
        if (!ov.ping(a.name, GW)) failures.push(`${a.name} -> gateway`);
        for (const b of ALL) if (a !== b && !ov.ping(a.name, b.ip)) failures.push(`${a.name} -> ${b.name}`);
      }
    });
    assert.deepEqual(failures, []);
    assert.ok(rows.length > 0, 'VXLAN between the nodes');
    assert.ok(rows.every((r) => r[6] !== 'ff:ff:ff:ff:ff:ff'), 'no broadcast inside VXLAN');
    // Every VM learnt every peer and the gateway by ARP: none is static.
    for (const a of ALL) {
      assert.doesNotMatch(ov.lab.run('ip', ['neigh', 'show', 'nud', 'permanent'], { ns: a.name }).stdout, /lladdr/, 'no static entry');
      assert.match(neigh(a.name, GW), /lladdr 02:76:/, `${a.name} resolved the gateway`);
    }
    const s1 = await swstats('cn1');
    assert.ok(s1.arpReplies! >= 8, JSON.stringify(s1));
    assert.ok(s1.l3Upcalls! >= 2, 'cn1 asked the agent for the two remote VMs');
    assert.ok(s1.gwToGateway! >= 2, 'the gateway answered the echo requests');
    assert.ok(await agents.cn1!.metric('vpc_agent_l3_upcalls_total') >= 2);
    assert.ok(await agents.cn1!.metric('vpc_agent_l3_answers_total', { result: 'found' }) >= 2);
    // The answer installed the neighbour entry and the CAM entry of its MAC.
    const nb = (await ov.node.cn1!.call('nbrGet', { ip: vm(21).ip })) as { kind: string; mac: string; used: boolean };
    assert.equal(nb.kind, 'found');
    assert.equal(nb.mac, vm(21).mac);
    assert.equal(nb.used, true);
    assert.equal(((await ov.node.cn1!.call('camGet', { mac: vm(21).mac })) as { vtep: string }).vtep, ov.vtep('cn2'));
  });

  test('no ARP inside VXLAN on the underlay (tshark)', async () => {
    const pcap = join(ov.tmp, 'arp.pcap');
    const cap = ov.lab.spawnIn('ul', 'tshark', ['-n', '-i', 'br0', '-f', 'udp port 4789', '-w', pcap]);
    const err: string[] = [];
    cap.stderr!.setEncoding('utf8').on('data', (d: string) => err.push(d));
    await until(() => err.join('').includes('Capturing on'), 'tshark to start', 20_000);
    try {
      // Flush the VMs' caches: they must ARP and solicit again.
      for (const a of ALL) ov.lab.run('ip', ['neigh', 'flush', 'dev', a.name], { ns: a.name });
      for (const a of ALL) for (const b of ALL) if (a !== b) assert.ok(ov.ping(a.name, b.ip), `${a.name} -> ${b.name}`);
      await sleep(300);
    } finally {
      await stopProcess(cap, 'SIGINT', 'tshark');
    }
    const count = (filter: string) => ov.lab.run('tshark', ['-n', '-r', pcap, '-Y', filter, '-T', 'fields', '-e', 'frame.number']).stdout.trim().split('\n').filter(Boolean).length;
    assert.ok(count('vxlan && icmp') > 0, 'the pings went over VXLAN');
    assert.equal(count('vxlan && arp'), 0, 'no ARP in VXLAN');
    assert.equal(count('vxlan && icmpv6.type == 135'), 0, 'no NS in VXLAN');
  });

  test('IPv6: NS/NA resolved across nodes, ping6 between nodes and to the gateway', async () => {
    const before = await swstats('cn1');
    for (const a of VMS.cn1) for (const b of VMS.cn2) assert.ok(ov.ping(a.name, b.ip6!), `${a.name} -> ${b.ip6}`);
    for (const b of VMS.cn2) assert.ok(ov.ping(b.name, VMS.cn1[0]!.ip6!), `${b.name} -> ${VMS.cn1[0]!.ip6}`);
    const s = await swstats('cn1');
    assert.ok(s.naReplies! > before.naReplies!, 'NAs from the switch');
    assert.match(neigh('vm11', vm(21).ip6!), new RegExp(`lladdr ${vm(21).mac}`));
    const gw = (await ov.node.cn1!.call('gateway')) as { ipv6: string; mac: string };
    assert.ok(ov.ping('vm11', gw.ipv6), 'ping6 the gateway');
    assert.match(neigh('vm11', gw.ipv6), new RegExp(`lladdr ${gw.mac}.*router`), 'the gateway is a router (R flag)');
  });

  test('bad ARP and ND: each dropped and counted, nothing answered, nothing installed, no upcall', async () => {
    const a = vm(11);
    const cases: Array<[string, Buffer, string]> = [
      ['ARP htype 6', arpFrame({ src: a.mac, htype: 6, spa: a.ip, tpa: vm(12).ip }), 'arpDropBad'],
      ['ARP ptype IPv6', arpFrame({ src: a.mac, ptype: 0x86dd, spa: a.ip, tpa: vm(12).ip }), 'arpDropBad'],
      ['ARP hlen 8', arpFrame({ src: a.mac, hlen: 8, spa: a.ip, tpa: vm(12).ip }), 'arpDropBad'],
      ['ARP plen 16', arpFrame({ src: a.mac, plen: 16, spa: a.ip, tpa: vm(12).ip }), 'arpDropBad'],
      ['ARP op 3', arpFrame({ src: a.mac, op: 3, spa: a.ip, tpa: vm(12).ip }), 'arpDropBad'],
      ['ARP truncated', arpFrame({ src: a.mac, spa: a.ip, tpa: vm(12).ip, truncate: 30 }), 'arpDropBad'],
      ['ARP sender MAC not the vmnic\'s', arpFrame({ src: a.mac, sha: '02:00:00:04:00:99', spa: a.ip, tpa: vm(12).ip }), 'arpDropSpoof'],
      ['ARP sender IP not the vmnic\'s', arpFrame({ src: a.mac, spa: '203.0.113.99', tpa: vm(12).ip }), 'arpDropSpoof'],
      ['gratuitous ARP', arpFrame({ src: a.mac, spa: a.ip, tpa: a.ip }), 'arpGratuitous'],
      ['ARP reply from a VM', arpFrame({ src: a.mac, op: 2, spa: a.ip, tpa: vm(12).ip, tha: vm(12).mac }), 'arpDropReply'],
      ['ARP for the subnet\'s broadcast', arpFrame({ src: a.mac, spa: a.ip, tpa: '203.0.113.255' }), 'arpDropTarget'],
      ['ARP for the network address', arpFrame({ src: a.mac, spa: a.ip, tpa: '203.0.113.0' }), 'arpDropTarget'],
      ['ARP probe for its own address', arpFrame({ src: a.mac, spa: '0.0.0.0', tpa: a.ip }), 'arpProbeQuiet'],
      ['NS hop limit 64', nsFrame({ src: a.mac, ipSrc: a.ip6!, target: vm(12).ip6!, hlim: 64 }), 'ndDropBad'],
      ['NS code 1', nsFrame({ src: a.mac, ipSrc: a.ip6!, target: vm(12).ip6!, code: 1 }), 'ndDropBad'],
      ['NS bad checksum', nsFrame({ src: a.mac, ipSrc: a.ip6!, target: vm(12).ip6!, badChecksum: true }), 'ndDropBad'],
      ['NS option of length 0', nsFrame({ src: a.mac, ipSrc: a.ip6!, target: vm(12).ip6!, options: Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]) }), 'ndDropBad'],
      ['NS without a source link-layer option', nsFrame({ src: a.mac, ipSrc: a.ip6!, target: vm(12).ip6!, options: Buffer.alloc(0) }), 'ndDropBad'],
      ['NS source link-layer option of 16 bytes', nsFrame({ src: a.mac, ipSrc: a.ip6!, target: vm(12).ip6!, options: slla(a.mac, 2) }), 'ndDropBad'],
      ['NS to another solicited-node group', nsFrame({ src: a.mac, ipSrc: a.ip6!, target: vm(12).ip6!, ipDst: 'ff02::1:ff00:99' }), 'ndDropBad'],
      ['DAD with a source link-layer option', nsFrame({ src: a.mac, ipSrc: '::', target: vm(12).ip6!, options: slla(a.mac) }), 'ndDropBad'],
      ['NS whose link-layer option is another MAC', nsFrame({ src: a.mac, ipSrc: a.ip6!, target: vm(12).ip6!, options: slla('02:00:00:04:00:99') }), 'ndDropSpoof'],
      ['NS for a multicast target', nsFrame({ src: a.mac, ipSrc: a.ip6!, target: 'ff02::1', ipDst: 'ff02::1' }), 'ndDropTarget'],
      ['NS for the loopback', nsFrame({ src: a.mac, ipSrc: a.ip6!, target: '::1' }), 'ndDropTarget'],
      ['NS for a v4-mapped target', nsFrame({ src: a.mac, ipSrc: a.ip6!, target: '::ffff:203.0.113.12' }), 'ndDropTarget'],
      ['NA from a VM', nsFrame({ src: a.mac, ipSrc: a.ip6!, target: a.ip6!, type: 136, ipDst: 'ff02::1', options: Buffer.alloc(0) }), 'ndDropNa'],
      ['DAD for its own address', nsFrame({ src: a.mac, ipSrc: '::', target: a.ip6! }), 'ndDadQuiet'],
    ];
    const table = async () => JSON.stringify(((await ov.node.cn1!.call('nbrDump')) as Array<Record<string, unknown>>).map(({ ttlMs: _t, ...e }) => e));
    const nbrBefore = await table();
    for (const [what, frame, counter] of cases) {
      const before = await swstats('cn1');
      sendRaw('vm11', [frame]);
      await until(async () => (await swstats('cn1'))[counter]! > before[counter]!, `${what}: ${counter}`);
      const s = await swstats('cn1');
      assert.equal(s[counter]! - before[counter]!, 1, `${what}: ${counter} once`);
      // (txLocal and flooded are left out: the VMs' own multicast chatter,
      // MLD reports and the like, moves them now and then.)
      for (const k of ['arpReplies', 'naReplies', 'upcalls', 'txRemote']) {
        assert.equal(s[k], before[k], `${what}: ${k} unchanged`);
      }
    }
    assert.equal(await table(), nbrBefore, 'the neighbour table is as it was');
  });

  test('a mapping moves to a new MAC: the VM that used it hears a gratuitous ARP and reaches the new MAC', async () => {
    // vm22 is re-created as vm23: same addresses, a new vmnic and MAC on cn2.
    const old = vm(22);
    const fresh: VmSpec = { name: 'vm23', mac: '02:00:00:04:00:23', ip: old.ip, ip6: old.ip6! };
    assert.ok(ov.ping('vm11', old.ip), 'vm11 uses the address');
    assert.match(neigh('vm11', old.ip), new RegExp(`lladdr ${old.mac}`));
    await ov.node.cn2!.call('delVm', { mac: old.mac });
    await ov.node.cn2!.call('addVm', { mac: fresh.mac, ifname: fresh.name, ipv4: fresh.ip, ipv6: fresh.ip6 });
    ov.plugVm('cn2', fresh);
    const before = await swstats('cn1');
    writeMappings([...ALL.filter((v) => v.name !== old.name), fresh]);
    await until(async () => ((await ov.node.cn1!.call('nbrGet', { ip: old.ip })) as { mac?: string }).mac === fresh.mac, 'cn1\'s entry to follow the directory')
      .catch((e: Error) => { throw new Error(`${e.message}: ${JSON.stringify(agents.cn1!.logs.slice(-8))}`); });
    await until(async () => (await swstats('cn1')).nbrAnnounced! > before.nbrAnnounced!, 'the announcement');
    await until(() => new RegExp(`lladdr ${fresh.mac}`).test(neigh('vm11', old.ip)), 'vm11 to take the new MAC');
    assert.ok(ov.ping('vm11', old.ip), 'vm11 reaches the address at its new MAC');
    assert.ok(await agents.cn1!.metric('vpc_agent_neighbours_pushed_total', { action: 'update' }) >= 1);
  });

  test('BUM policy drop: broadcast other than ARP/ND is dropped and counted; ARP is still answered', async () => {
    await ov.node.cn1!.call('setPolicy', { policy: { bum: 'drop' } });
    try {
      const before = await swstats('cn1');
      ov.lab.run('/usr/bin/python3', [framesPy, 'send', 'vm11', 'ff:ff:ff:ff:ff:ff', vm(11).mac, '5'], { ns: 'vm11' });
      await until(async () => (await swstats('cn1')).dropBum! - before.dropBum! === 5, 'five drops');
      const s = await swstats('cn1');
      assert.equal(s.flooded, before.flooded, 'nothing flooded');
      ov.lab.run('ip', ['neigh', 'flush', 'dev', 'vm11'], { ns: 'vm11' });
      assert.ok(ov.ping('vm11', vm(12).ip), 'ARP is answered by the switch, not flooded: unaffected');
    } finally {
      await ov.node.cn1!.call('setPolicy', { policy: {} });
    }
  });

  test('the per-vmnic upcall rate: misses over it are not asked, and are counted', async () => {
    await ov.node.cn1!.call('setPolicy', { policy: { upcallRate: 1, upcallBurst: 1 } });
    try {
      const before = await swstats('cn1');
      const macs = Array.from({ length: 50 }, (_, i) => `02:00:00:04:02:${i.toString(16).padStart(2, '0')}`);
      ov.lab.run('/usr/bin/python3', [framesPy, 'send', 'vm11', macs.join(','), vm(11).mac, '1'], { ns: 'vm11' });
      await until(async () => (await swstats('cn1')).misses! - before.misses! === 50, 'fifty misses');
      const s = await swstats('cn1');
      const d = (k: string) => s[k]! - before[k]!;
      assert.equal(d('upcalls') + d('upcallRatelimited'), 50, 'each miss asked, or held back by the rate');
      assert.ok(d('upcallRatelimited') >= 1, 'the rate held some back');
      assert.equal(d('lost'), d('upcallRatelimited'), 'counted as lost too: misses = held + holdDrops + lost');
    } finally {
      await ov.node.cn1!.call('setPolicy', { policy: {} });
    }
  });

  test('the agent killed while L3 upcalls are pending: the next agent answers them', async () => {
    const ghosts = Array.from({ length: 40 }, (_, i) => ({
      vni: VNI, mac: `02:00:00:04:01:${i.toString(16).padStart(2, '0')}`, vtep: ov.vtep('cn2'), ip: `203.0.113.${100 + i}`,
    }));
    extra.push(...ghosts);
    writeMappings([...ALL.filter((v) => v.name !== 'vm22'), { name: 'vm23', mac: '02:00:00:04:00:23', ip: vm(22).ip, ip6: vm(22).ip6! }]);
    await agents.cn1!.waitLog((l) => l.msg === 'mappings loaded' && l.mappings === 44, 'the agent to load the ghosts');
    const before = await swstats('cn1');
    const requeued = (await upcalls('cn1')).requeued;
    // Stopped, it reads nothing: the requests stay pending in the kernel.
    agents.cn1!.proc.kill('SIGSTOP');
    sendRaw('vm11', ghosts.map((g) => arpFrame({ src: vm(11).mac, spa: vm(11).ip, tpa: g.ip })));
    await until(async () => (await swstats('cn1')).l3Upcalls! - before.l3Upcalls! === ghosts.length, 'an L3 upcall per address');
    assert.ok((await upcalls('cn1')).pending >= ghosts.length);
    agents.cn1!.proc.kill('SIGKILL');
    await agents.cn1!.stop('SIGKILL');
    agents.cn1 = await startAgent(agentArgs(), ov.env('cn1'));
    await until(async () => (await swstats('cn1')).l3Answers! - before.l3Answers! === ghosts.length, 'every request answered by the next agent');
    const s = await swstats('cn1');
    assert.equal(s.timeouts, before.timeouts, 'none timed out');
    assert.equal(s.lost, before.lost, 'none lost');
    assert.equal(s.arpReplies! - before.arpReplies!, ghosts.length, 'every held ARP request answered');
    assert.ok((await upcalls('cn1')).requeued >= requeued);
    for (const g of ghosts.slice(0, 3)) {
      assert.equal(((await ov.node.cn1!.call('nbrGet', { ip: g.ip })) as { mac: string }).mac, g.mac);
    }
  });

  test('one batch of L2 and L3 misses, known and unknown MACs: each answered as it is alone', async () => {
    // The agent answers a batch's leading L2 misses from the records as read
    // (installer.ts #quickAnswers) and the rest one by one: a batch that
    // mixes them, read at once because the agent is stopped while they are
    // raised, must come out as if each had come alone.
    const mac = (i: number) => `02:00:00:04:03:${i.toString(16).padStart(2, '0')}`;
    const known = [mac(1), mac(2), mac(3)];
    const unknown = [mac(0x81), mac(0x82)];
    const byIp = { vni: VNI, mac: mac(4), vtep: ov.vtep('cn2'), ip: '203.0.113.150' };
    extra.push(...known.map((m) => ({ vni: VNI, mac: m, vtep: ov.vtep('cn2') })), byIp);
    writeMappings(ALL);
    await agents.cn1!.waitLog((l) => l.msg === 'mappings loaded' && l.mappings === extra.length + ALL.length, 'the agent to load them');
    const before = await swstats('cn1');
    const a = agents.cn1!;
    const answers = async (result: string) => a.metric('vpc_agent_answers_total', { result });
    const found0 = await answers('found');
    const notFound0 = await answers('not_found');
    const upcalls0 = await a.metric('vpc_agent_upcalls_total');
    a.proc.kill('SIGSTOP');
    try {
      // In this order: L2 known, unknown; an L3 miss; L2 known, unknown, known.
      const send = (dsts: string[]) => ov.lab.run('/usr/bin/python3', [framesPy, 'send', 'vm11', dsts.join(','), vm(11).mac, '1'], { ns: 'vm11' });
      send([known[0]!, unknown[0]!]);
      sendRaw('vm11', [arpFrame({ src: vm(11).mac, spa: vm(11).ip, tpa: byIp.ip })]);
      send([known[1]!, unknown[1]!, known[2]!]);
      await until(async () => {
        const s = await swstats('cn1');
        return s.upcalls! - before.upcalls! === 6 && s.l3Upcalls! - before.l3Upcalls! === 1;
      }, 'six upcalls raised, one of them L3');
    } finally {
      a.proc.kill('SIGCONT');
    }
    await until(async () => (await answers('found')) - found0 === 4 && (await answers('not_found')) - notFound0 === 2, 'every request answered');
    assert.equal(await a.metric('vpc_agent_upcalls_total') - upcalls0, 6);
    for (const m of known) assert.equal(((await ov.node.cn1!.call('camGet', { mac: m })) as { vtep?: string }).vtep, ov.vtep('cn2'), m);
    for (const m of unknown) assert.equal(((await ov.node.cn1!.call('camGet', { mac: m })) as { kind?: string }).kind, 'negative', m);
    assert.equal(((await ov.node.cn1!.call('nbrGet', { ip: byIp.ip })) as { mac: string }).mac, byIp.mac);
    assert.equal(((await ov.node.cn1!.call('camGet', { mac: byIp.mac })) as { vtep?: string }).vtep, ov.vtep('cn2'), 'the L3 answer installs its MAC too');
    const s = await swstats('cn1');
    assert.equal(s.timeouts, before.timeouts, 'none timed out');
    assert.equal(s.lost, before.lost, 'none lost');
  });
});
