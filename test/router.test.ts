// SPDX-License-Identifier: BSD-2-Clause
/**
 * The distributed router on the host kernel with real namespaces: two
 * compute nodes, three subnets (three switches, three VNIs) on each, one
 * router per node attached to all three (the same router id and switch ids
 * on both nodes, as orchestration would configure them), built with vpcctl
 * as an operator would.  VMs get their addresses by a real dhclient with
 * the gateway as their default route; vpc-agent on each node answers the
 * L3 upcalls of every VNI from one mapping file.
 *
 *  - every VM reaches every other, across subnets and nodes (ping), with
 *    the destination subnet's VNI on the underlay (tshark);
 *  - a TCP transfer across subnets and nodes, checked byte for byte;
 *  - traceroute: the gateway, then the destination;
 *  - TTL 1: time exceeded from the gateway; no route and a drop route:
 *    net unreachable from the gateway (ping decodes them);
 *  - IPv6 (each subnet dual stack, the VMs' IPv6 configured by hand): ping
 *    between every two VMs, a TCP transfer across subnets and nodes, hop
 *    limit 1 and no route answered with ICMPv6 from the gateway;
 *  - an appliance route (10.9.0.0/16 via a VM of subnet b that forwards to
 *    a namespace behind it), used from both nodes: TTL 62 at the far end,
 *    the appliance's forwarding counter, traceroute naming it;
 *  - the router's ICMP and ICMPv6 errors (time exceeded, no route) to UDP
 *    probes, captured in the prober's namespace and decoded by tshark:
 *    not malformed, no expert warning, checksums good, the quoted header
 *    and ports the probe's;
 *  - route replace under a continuous ping: no loss on the unchanged route;
 *  - route replace from a file of 100,000 routes (staged), and a file with a
 *    bad route deep in it refused whole.
 */
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startAgent, type AgentProc } from './helpers/agent.ts';
import { DhcpClients } from './helpers/dhcp-client.ts';
import { Overlay, until } from './helpers/overlay.ts';
import { root, VPCCTL_TIMEOUT_MS } from './helpers/paths.ts';
import { transfer } from './helpers/tcpxfer.ts';

const PY = '/usr/bin/python3';
const probeFile = join(root, 'test', 'fixtures', 'udpprobe.py');
const ROUTER = '7e5a1c40-0000-4000-8000-000000000613';
// Dual stack: each subnet has an IPv4 and an IPv6 prefix (documentation
// ranges); the gateways are the defaults, each prefix's first host.
interface Subnet { name: string; vni: number; cidr: string; gw: string; cidr6: string; gw6: string; sw: string }
const SUBNETS: Subnet[] = [
  { name: 'a', vni: 610, cidr: '10.61.0.0/24', gw: '10.61.0.1', cidr6: '2001:db8:61::/64', gw6: '2001:db8:61::1', sw: '7e5a1c40-0000-4000-8000-000000000610' },
  { name: 'b', vni: 620, cidr: '10.62.0.0/24', gw: '10.62.0.1', cidr6: '2001:db8:62::/64', gw6: '2001:db8:62::1', sw: '7e5a1c40-0000-4000-8000-000000000620' },
  { name: 'c', vni: 630, cidr: '10.63.0.0/24', gw: '10.63.0.1', cidr6: '2001:db8:63::/64', gw6: '2001:db8:63::1', sw: '7e5a1c40-0000-4000-8000-000000000630' },
];
interface Vm { name: string; cn: string; subnet: Subnet; ip: string; ip6: string; mac: string }
const VMS: Vm[] = [
  { name: 'ra1', cn: 'cn1', subnet: SUBNETS[0]!, ip: '10.61.0.11', ip6: '2001:db8:61::11', mac: '02:00:00:61:00:11' },
  { name: 'rb1', cn: 'cn1', subnet: SUBNETS[1]!, ip: '10.62.0.11', ip6: '2001:db8:62::11', mac: '02:00:00:62:00:11' },
  { name: 'ra2', cn: 'cn2', subnet: SUBNETS[0]!, ip: '10.61.0.21', ip6: '2001:db8:61::21', mac: '02:00:00:61:00:21' },
  { name: 'rc2', cn: 'cn2', subnet: SUBNETS[2]!, ip: '10.63.0.21', ip6: '2001:db8:63::21', mac: '02:00:00:63:00:21' },
];
const vm = (name: string): Vm => VMS.find((v) => v.name === name)!;
/**
 * The appliance: a VM of subnet b on cn1 that forwards (ip_forward) between
 * its vmnic and a veth to a namespace behind it (bh1, 10.9.0.2 in
 * 10.9.0.0/16).  Configured statically, with no address on its vmnic: an
 * address there would make the switch drop what it forwards (anti-spoofing
 * lets only that source through), as it should for an ordinary VM.
 */
const APPLIANCE = { name: 'ap1', cn: 'cn1', subnet: SUBNETS[1]!, ip: '10.62.0.12', mac: '02:00:00:62:00:12' };
const BEHIND = { name: 'bh1', net: '10.9.0.0/16', apIp: '10.9.0.1', ip: '10.9.0.2' };

const ov = new Overlay('rt');
const agents: Record<string, AgentProc> = {};
let dhcp: DhcpClients;

function vpcctl(cn: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [resolve(root, 'bin/vpcctl.js'), ...args], {
    encoding: 'utf8', env: { ...process.env, ...ov.env(cn) }, timeout: VPCCTL_TIMEOUT_MS,
  });
  if (r.status !== 0) throw new Error(`[${cn}] vpcctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function collect(p: ChildProcess): { out: string[]; err: string[]; done: Promise<number | null>; proc: ChildProcess } {
  const out: string[] = [];
  const err: string[] = [];
  p.stdout!.setEncoding('utf8').on('data', (d: string) => out.push(d));
  p.stderr!.setEncoding('utf8').on('data', (d: string) => err.push(d));
  return { out, err, done: new Promise((r) => p.once('close', (code) => r(code))), proc: p };
}

function ping(from: string, to: string, extra: string[] = []): { ok: boolean; out: string } {
  const r = ov.lab.run('ping', ['-n', '-c', '1', '-W', '3', ...extra, to], { ns: from, allowFail: true });
  return { ok: r.status === 0, out: r.stdout + r.stderr };
}

/** Every VM pings every other at addrOf(it): the pairs ("a -> b") that got no answer. */
function unansweredPairs(addrOf: (v: Vm) => string): string[] {
  const failures: string[] = [];
  for (const a of VMS) for (const b of VMS) if (a !== b && !ping(a.name, addrOf(b)).ok) failures.push(`${a.name} -> ${b.name}`);
  return failures;
}

async function rstats(cn: string): Promise<Record<string, number>> {
  return (JSON.parse(vpcctl(cn, 'router', 'get', ROUTER, '--json')) as { stats: Record<string, number> }).stats;
}

before(async () => {
  const mappings = join(ov.tmp, 'mappings.json');
  writeFileSync(mappings, JSON.stringify({
    version: 1,
    mappings: [
      ...VMS.map((v) => ({ vni: v.subnet.vni, mac: v.mac, vtep: ov.vtep(v.cn), ip: v.ip, ip6: v.ip6 })),
      { vni: APPLIANCE.subnet.vni, mac: APPLIANCE.mac, vtep: ov.vtep(APPLIANCE.cn), ip: APPLIANCE.ip },
    ],
  }, null, 2));
  dhcp = new DhcpClients(ov.lab, ov.tmp);
  for (const cn of ['cn1', 'cn2']) {
    await ov.addNode(cn);
    const vcc = vpcctl(cn, 'vcc', 'create', '--ipv4', ov.vtep(cn));
    vpcctl(cn, 'router', 'create', '--id', ROUTER);
    for (const s of SUBNETS) {
      vpcctl(cn, 'switch', 'create', '--id', s.sw, '--vni', String(s.vni), '--subnet', s.cidr, '--subnet', s.cidr6);
      vpcctl(cn, 'switch', 'port', 'add', s.sw, '--uplink', '--vcc', vcc);
      vpcctl(cn, 'router', 'attach', ROUTER, s.sw);
    }
    for (const v of VMS.filter((x) => x.cn === cn)) {
      const nic = vpcctl(cn, 'vmnic', 'create', '--mac', v.mac, '--ifname', v.name, '--ip', v.ip, '--ip6', v.ip6, '--dhcp');
      vpcctl(cn, 'switch', 'port', 'add', v.subnet.sw, '--vmnic', '--nic', nic);
    }
    if (APPLIANCE.cn === cn) {
      const nic = vpcctl(cn, 'vmnic', 'create', '--mac', APPLIANCE.mac, '--ifname', APPLIANCE.name);
      vpcctl(cn, 'switch', 'port', 'add', APPLIANCE.subnet.sw, '--vmnic', '--nic', nic);
    }
    // Neighbours resolved by L3 upcalls (counted below) are part of what this tests: push mode off.
    agents[cn] = await startAgent(['--resolver', 'file', '--mappings', mappings, '--ttl', '600000', '--log-level', 'info', '--no-push'], ov.env(cn));
  }
  for (const v of VMS) {
    ov.lab.addNs(v.name);
    // IPv6 by hand (DHCP is IPv4 only): no SLAAC address beside the vmnic's
    // own (anti-spoofing would drop it), the default route via the gateway.
    for (const k of ['all', 'default']) ov.lab.run('sysctl', ['-qw', `net.ipv6.conf.${k}.accept_ra=0`], { ns: v.name });
    ov.lab.ip(v.cn, 'link', 'set', v.name, 'netns', ov.lab.ns(v.name));
    ov.lab.run('sysctl', ['-qw', `net.ipv6.conf.${v.name}.accept_ra=0`], { ns: v.name });
    ov.lab.ip(v.name, 'addr', 'add', `${v.ip6}/64`, 'dev', v.name, 'nodad');
    ov.lab.ip(v.name, 'link', 'set', v.name, 'up');
    ov.lab.ip(v.name, '-6', 'route', 'replace', 'default', 'via', v.subnet.gw6, 'dev', v.name);
    dhcp.start(v.name);
  }
  // The appliance forwards between its vmnic and the network behind it.
  const ap = APPLIANCE.name;
  ov.lab.addNs(ap, BEHIND.name);
  ov.lab.ip(APPLIANCE.cn, 'link', 'set', ap, 'netns', ov.lab.ns(ap));
  ov.lab.ip(ap, 'addr', 'add', `${APPLIANCE.ip}/24`, 'dev', ap);
  ov.lab.ip(ap, 'link', 'set', ap, 'up');
  ov.lab.ip(ap, 'route', 'add', 'default', 'via', APPLIANCE.subnet.gw);
  ov.lab.veth(ap, 'in0', BEHIND.name, 'eth0');
  ov.lab.ip(ap, 'addr', 'add', `${BEHIND.apIp}/16`, 'dev', 'in0');
  ov.lab.ip(BEHIND.name, 'addr', 'add', `${BEHIND.ip}/16`, 'dev', 'eth0');
  ov.lab.ip(BEHIND.name, 'route', 'add', 'default', 'via', BEHIND.apIp);
  for (const k of ['net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']) {
    ov.lab.run('sysctl', ['-qw', k], { ns: ap });
  }
  for (const v of VMS) await until(() => dhcp.bound(v.name) !== undefined, `${v.name}'s DHCP lease`);
});

after(async () => {
  for (const a of Object.values(agents)) await a.stop('SIGKILL');
  assert.deepEqual(await ov.close(), [], 'the daemons stopped cleanly');
});

describe('the distributed router: three subnets on two nodes', () => {
  test('each VM leased its address with its gateway as the default route', () => {
    for (const v of VMS) {
      const lease = dhcp.bound(v.name)!;
      assert.equal(lease.new_ip_address, v.ip);
      assert.equal(lease.new_routers, v.subnet.gw);
      assert.match(ov.lab.run('ip', ['route', 'show', 'default'], { ns: v.name }).stdout, new RegExp(`via ${v.subnet.gw.replace(/\./g, '\\.')}`));
    }
    const routes = JSON.parse(vpcctl('cn1', 'route', 'list', ROUTER, '--json')) as Array<{ destination: string; class: string }>;
    assert.deepEqual(routes.map((r) => `${r.destination} ${r.class}`).sort(),
      SUBNETS.flatMap((s) => [`${s.cidr} connected`, `${s.cidr6} connected`]).sort());
  });

  test('every VM reaches every other across subnets and nodes, with the destination VNI on the underlay', async () => {
    let failures: string[] = [];
    const rows = await ov.capture('udp port 4789', async () => {
      failures = unansweredPairs((v) => v.ip);
    });
    assert.deepEqual(failures, []);
    // ra1 (cn1, VNI 610) to rc2 (cn2, VNI 630): the echo request crosses with 630.
    // Fields with an outer and an inner value (ip, eth) hold both: "outer,inner".
    const last = (f: string | undefined) => (f ?? '').split(',').at(-1);
    const toC = rows.filter((r) => (r[1] ?? '').startsWith(`${ov.vtep('cn2')},`) && last(r[6]) === vm('rc2').mac);
    assert.ok(toC.length > 0, 'frames for rc2 on the underlay');
    assert.ok(toC.every((r) => r[4] === '630'), `the destination subnet's VNI: ${JSON.stringify(toC.slice(0, 3))}`);
    const gwC = JSON.parse(vpcctl('cn1', 'switch', 'get', SUBNETS[2]!.sw, '--json')) as { gateway: { mac: string } };
    assert.ok(toC.every((r) => last(r[5]) === gwC.gateway.mac), 'sent from the egress gateway\'s MAC');
    const s1 = await rstats('cn1');
    assert.ok(s1.routed! >= 6, JSON.stringify(s1));
    assert.ok(s1.nbrMiss! >= 1, 'neighbours resolved by L3 upcalls');
    assert.ok(await agents.cn1!.metric('vpc_agent_l3_answers_total', { result: 'found' }) >= 2, 'the agent answered L3 upcalls of other VNIs');
  });

  test('a TCP transfer across subnets and nodes, byte for byte', async () => {
    await transfer(ov.lab, 'ra1', 'rc2', vm('rc2').ip, 5613, 2 * 1024 * 1024);
  });

  test('traceroute: the gateway, then the destination', () => {
    const r = ov.lab.run('traceroute', ['-n', '-q', '1', '-w', '3', '-m', '5', vm('rc2').ip], { ns: 'ra1', allowFail: true });
    const hops = r.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1]);
    assert.deepEqual(hops, [vm('ra1').subnet.gw, vm('rc2').ip], r.stdout);
  });

  test('TTL 1: time exceeded; no route and a drop route: net unreachable; all from the gateway (decoded by ping)', async () => {
    const before = await rstats('cn1');
    const ttl = ping('ra1', vm('rb1').ip, ['-t', '1']);
    assert.ok(!ttl.ok);
    assert.match(ttl.out, /From 10\.61\.0\.1 icmp_seq=1 Time to live exceeded/);
    const none = ping('ra1', '192.0.2.77');
    assert.match(none.out, /From 10\.61\.0\.1 icmp_seq=1 Destination Net Unreachable/);
    vpcctl('cn1', 'route', 'add', ROUTER, '10.62.0.0/25', '--drop');
    try {
      const drop = ping('ra1', vm('rb1').ip);
      assert.match(drop.out, /From 10\.61\.0\.1 icmp_seq=1 Destination Net Unreachable/);
    } finally {
      vpcctl('cn1', 'route', 'del', ROUTER, '10.62.0.0/25', '--drop');
    }
    assert.ok(ping('ra1', vm('rb1').ip).ok, 'the drop route gone: reachable again');
    const s = await rstats('cn1');
    assert.ok(s.ttlExceeded! >= before.ttlExceeded! + 1);
    assert.ok(s.noRoute! >= before.noRoute! + 1);
    assert.ok(s.blackhole! >= before.blackhole! + 1);
  });

  test('IPv6: every VM reaches every other across subnets and nodes (ping -6)', async () => {
    const before = await rstats('cn1');
    assert.deepEqual(unansweredPairs((v) => v.ip6), []);
    // Routed once: the hop limit of 64 comes back as 63.
    assert.match(ping('ra1', vm('rc2').ip6).out, /from 2001:db8:63::21: icmp_seq=1 ttl=63 /);
    const s = await rstats('cn1');
    assert.ok(s.routed! >= before.routed! + 6, JSON.stringify(s));
  });

  test('IPv6: a TCP transfer across subnets and nodes, byte for byte', async () => {
    await transfer(ov.lab, 'ra1', 'rc2', vm('rc2').ip6, 5614, 2 * 1024 * 1024);
  });

  test('IPv6: hop limit 1: time exceeded; no route: unreachable; from the gateway (decoded by ping)', async () => {
    const before = await rstats('cn1');
    const hl = ping('ra1', vm('rb1').ip6, ['-t', '1']);
    assert.ok(!hl.ok);
    assert.match(hl.out, /From 2001:db8:61::1 icmp_seq=1 Time exceeded: Hop limit/);
    const none = ping('ra1', '2001:db8:ff::77');
    assert.ok(!none.ok);
    assert.match(none.out, /From 2001:db8:61::1 icmp_seq=1 Destination unreachable: No route/);
    const s = await rstats('cn1');
    assert.ok(s.ttlExceeded! >= before.ttlExceeded! + 1);
    assert.ok(s.noRoute! >= before.noRoute! + 1);
  });

  test('an appliance route: 10.9.0.0/16 via a VM that forwards, from both nodes', async () => {
    const ap = APPLIANCE.name;
    /** A counter of /proc/net/snmp in a namespace (its own: the file is per network namespace). */
    const snmp = (ns: string, group: string, name: string): number => {
      const lines = ov.lab.run('cat', ['/proc/net/snmp'], { ns }).stdout.split('\n').filter((l) => l.startsWith(`${group}: `));
      const keys = lines[0]!.split(/\s+/);
      return Number(lines[1]!.split(/\s+/)[keys.indexOf(name)]);
    };
    const none = ping('ra1', BEHIND.ip);
    assert.match(none.out, /From 10\.61\.0\.1 icmp_seq=1 Destination Net Unreachable/, 'no route before');
    for (const cn of ['cn1', 'cn2']) vpcctl(cn, 'route', 'add', ROUTER, BEHIND.net, '--next-hop', APPLIANCE.ip);
    try {
      const routes = JSON.parse(vpcctl('cn2', 'route', 'list', ROUTER, '--json')) as Array<{ destination: string; class: string }>;
      assert.ok(routes.some((r) => r.destination === BEHIND.net && r.class === 'custom'), JSON.stringify(routes));
      const fwd0 = snmp(ap, 'Ip', 'ForwDatagrams');
      const echo0 = snmp(BEHIND.name, 'Icmp', 'InEchos');
      const n = 5;
      for (const from of ['ra1', 'ra2']) {
        const r = ov.lab.run('ping', ['-n', '-c', String(n), '-i', '0.2', '-W', '3', BEHIND.ip], { ns: from, allowFail: true });
        assert.equal(r.status, 0, `${from} -> ${BEHIND.ip}: ${r.stdout}${r.stderr}`);
        // 64, less one for the router and one for the appliance (a VM
        // routed directly gets 63, as the IPv6 test shows).
        assert.match(r.stdout, /from 10\.9\.0\.2: icmp_seq=\d+ ttl=62 /, `${from}: two hops`);
      }
      // Every request went in through the appliance and every reply out of it.
      const fwd = snmp(ap, 'Ip', 'ForwDatagrams') - fwd0;
      assert.ok(fwd >= 2 * 2 * n, `the appliance forwarded ${fwd} datagrams`);
      assert.ok(snmp(BEHIND.name, 'Icmp', 'InEchos') - echo0 >= 2 * n, 'the network behind it got the requests');
      // traceroute names the appliance as the hop after the gateway, from
      // its node and from the other one.
      for (const from of ['ra1', 'ra2']) {
        const tr = ov.lab.run('traceroute', ['-n', '-q', '1', '-w', '3', '-m', '5', BEHIND.ip], { ns: from, allowFail: true });
        const hops = tr.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1]);
        assert.deepEqual(hops, [vm(from).subnet.gw, APPLIANCE.ip, BEHIND.ip], tr.stdout);
      }
    } finally {
      for (const cn of ['cn1', 'cn2']) vpcctl(cn, 'route', 'del', ROUTER, BEHIND.net, '--next-hop', APPLIANCE.ip);
    }
    assert.match(ping('ra1', BEHIND.ip).out, /Destination Net Unreachable/, 'the route gone: unreachable again');
  });

  test('ICMP errors from the router decoded by tshark: well-formed, valid checksums, quoting the probe', async () => {
    const probes = [
      { what: 'IPv4 TTL 1', dst: vm('rb1').ip, sport: 40001, dport: 33434, hops: 1, type: 11, code: 0 },
      { what: 'IPv4 no route', dst: '192.0.2.77', sport: 40002, dport: 33435, hops: 64, type: 3, code: 0 },
      { what: 'IPv6 hop limit 1', dst: vm('rb1').ip6, sport: 40003, dport: 33436, hops: 1, type: 3, code: 0 },
      { what: 'IPv6 no route', dst: '2001:db8:ff::77', sport: 40004, dport: 33437, hops: 64, type: 1, code: 0 },
    ];
    const src = vm('ra1');
    // The primer: an echo of the gateway (not an error: left out below).
    const prime = () => { ov.lab.run('ping', ['-n', '-c', '1', '-W', '1', src.subnet.gw], { ns: 'ra1', allowFail: true }); };
    const pcap = await ov.pcap('ra1', 'ra1', 'icmp or icmp6', async () => {
      for (const p of probes) {
        const r = ov.lab.run(PY, [probeFile, p.dst, String(p.sport), String(p.dport), String(p.hops)], { ns: 'ra1', allowFail: true, timeoutMs: 60_000 });
        const gw = p.dst.includes(':') ? src.subnet.gw6 : src.subnet.gw;
        assert.equal(r.stdout.trim(), `${p.type} ${p.code} ${gw}`, `${p.what}: the socket got the error from the gateway (${r.stderr})`);
      }
    }, prime);
    const opts = ['-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'];
    // Fields with an outer and a quoted value hold both, "outer,quoted".
    const fields = (display: string, f: string[], aggregator = ',') => ov.lab.run('tshark', ['-n', '-r', pcap, ...opts, '-Y', display, '-T', 'fields',
      '-E', 'separator=|', '-E', `aggregator=${aggregator}`, ...f.flatMap((x) => ['-e', x])]).stdout.trim().split('\n').filter(Boolean).map((l) => l.split('|'));
    // Nothing in the errors is malformed, and tshark's expert notes on them
    // are only about the probes' own TTL: the quoted header's "only 1"
    // (note) and its traceroute heuristic (chat).  A bad checksum, a bad
    // length or a quoted header that does not parse would be a warning or
    // an error.
    const errors = '(icmp.type == 3 || icmp.type == 11 || icmpv6.type == 1 || icmpv6.type == 3)';
    const all = fields(`${errors}`, ['frame.number', 'frame.time_relative', '_ws.col.Info']);
    assert.equal(all.length, probes.length, `one error per probe: ${JSON.stringify(all)}`);
    assert.deepEqual(fields(`${errors} && _ws.malformed`, ['frame.number']), [], 'no malformed packet');
    const expert = fields(`${errors} && _ws.expert`, ['frame.number', '_ws.expert.message', '_ws.expert.severity'], '~');
    const notes = expert.flatMap(([n, msgs, sevs]) => msgs!.split('~').map((m, i) => ({ n, m, sev: Number(sevs!.split('~')[i]) })));
    const NOTE = 0x400000;
    assert.deepEqual(notes.filter((x) => x.sev > NOTE || !/^("Time To Live" only 1|Possible traceroute: hop #1, attempt #\d+)$/.test(x.m.replace(/\\/g, ''))), [],
      `only notes about the probes' TTL: ${JSON.stringify(notes)}`);
    for (const p of probes) {
      const v6 = p.dst.includes(':');
      const rows = v6
        ? fields(`icmpv6.type == ${p.type} && udp.srcport == ${p.sport}`,
          ['ipv6.src', 'ipv6.dst', 'ipv6.nxt', 'icmpv6.code', 'icmpv6.checksum.status', 'udp.srcport', 'udp.dstport', 'ipv6.hlim'])
        : fields(`icmp.type == ${p.type} && udp.srcport == ${p.sport}`,
          ['ip.src', 'ip.dst', 'ip.proto', 'icmp.code', 'icmp.checksum.status', 'udp.srcport', 'udp.dstport', 'ip.ttl', 'ip.checksum.status']);
      assert.ok(rows.length >= 1, `${p.what}: the error was captured`);
      for (const r of rows) {
        const [srcs, dsts, protos, code, ck, sport, dport, ttls] = r;
        const gw = v6 ? src.subnet.gw6 : src.subnet.gw;
        const me = v6 ? src.ip6 : src.ip;
        // Outer, then the quoted header.
        assert.deepEqual(srcs!.split(','), [gw, me], `${p.what}: from the gateway, quoting the probe's source`);
        assert.deepEqual(dsts!.split(','), [me, p.dst], `${p.what}: to the prober, quoting the probe's destination`);
        assert.deepEqual(protos!.split(','), v6 ? ['58', '17'] : ['1', '17'], `${p.what}: ICMP quoting UDP`);
        assert.equal(code, String(p.code), p.what);
        assert.equal(ck, '1', `${p.what}: ICMP checksum good`);
        assert.deepEqual([sport, dport], [String(p.sport), String(p.dport)], `${p.what}: the probe's ports`);
        // The datagram as it came in: its TTL not yet taken by the router.
        assert.equal(ttls!.split(',')[1], String(p.hops), `${p.what}: the quoted TTL / hop limit`);
        if (!v6) assert.deepEqual(r[8]!.split(','), ['1', '1'], `${p.what}: both IPv4 header checksums good`);
      }
    }
  });

  test('route replace under a continuous ping: no loss on the route that did not change', async () => {
    const file = join(ov.tmp, 'routes.json');
    const p = collect(ov.lab.spawnIn('ra1', 'ping', ['-n', '-q', '-i', '0.02', '-c', '300', '-w', '120', vm('rc2').ip]));
    for (let i = 0; i < 20; i++) {
      writeFileSync(file, JSON.stringify([
        { destination: `172.${16 + (i % 8)}.0.0/16`, drop: true },
        { destination: '10.99.0.0/16', nextHop: vm('rb1').ip },
        ...(i % 2 === 0 ? [{ destination: '10.62.0.0/24', subnet: SUBNETS[1]!.sw }] : []),
      ]));
      vpcctl('cn1', 'route', 'replace', ROUTER, '--file', file);
    }
    writeFileSync(file, '[]');
    vpcctl('cn1', 'route', 'replace', ROUTER, '--file', file);
    assert.equal(await p.done, 0, p.out.join('') + p.err.join(''));
    assert.match(p.out.join(''), /300 packets transmitted, 300 received, 0% packet loss/);
    assert.equal((JSON.parse(vpcctl('cn1', 'route', 'list', ROUTER, '--json')) as unknown[]).length, 2 * SUBNETS.length, 'connected routes only');
  });

  test('route replace from a file of 100,000 routes (a staged replace); one bad route in it: refused, nothing changed', () => {
    const file = join(ov.tmp, 'routes-100k.json');
    const many = Array.from({ length: 100_000 }, (_, i) => ({ destination: `100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`, drop: true }));
    const routes = () => (JSON.parse(vpcctl('cn1', 'router', 'get', ROUTER, '--json')) as { routes: number }).routes;
    const connected = 2 * SUBNETS.length;
    // The bad route deep in the file (a later batch): nothing of the rest goes in.
    writeFileSync(file, JSON.stringify([...many.slice(0, 60_000), { destination: '10.9.0.0/16', nextHop: '10.77.0.5' }, ...many.slice(60_000)]));
    const bad = spawnSync(process.execPath, [resolve(root, 'bin/vpcctl.js'), 'route', 'replace', ROUTER, '--file', file], {
      encoding: 'utf8', env: { ...process.env, ...ov.env('cn1') }, timeout: VPCCTL_TIMEOUT_MS,
    });
    assert.notEqual(bad.status, 0, 'a next hop in no attached subnet is refused');
    assert.match(bad.stderr, /EADDRNOTAVAIL/);
    assert.equal(routes(), connected, 'nothing of the refused file went in');
    writeFileSync(file, JSON.stringify(many));
    assert.equal((JSON.parse(vpcctl('cn1', 'route', 'replace', ROUTER, '--file', file, '--json')) as { routes: number }).routes, 100_000);
    assert.equal(routes(), connected + 100_000);
    const hit = JSON.parse(vpcctl('cn1', 'route', 'get', ROUTER, '100.65.134.159', '--json')) as { destination: string; target: string };
    assert.deepEqual([hit.destination, hit.target], ['100.65.134.159/32', 'drop']);   // the last one: 99,999
    writeFileSync(file, '[]');
    vpcctl('cn1', 'route', 'replace', ROUTER, '--file', file);
    assert.equal(routes(), connected);
  });
});
