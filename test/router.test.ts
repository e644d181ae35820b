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
 *  - route replace under a continuous ping: no loss on the unchanged route.
 */
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startAgent, type AgentProc } from './helpers/agent.ts';
import { DhcpClients } from './helpers/dhcp-client.ts';
import { Overlay, until } from './helpers/overlay.ts';
import { root } from './helpers/paths.ts';

const PY = '/usr/bin/python3';
const xferPy = join(root, 'test', 'fixtures', 'tcpxfer.py');
const ROUTER = '7e5a1c40-0000-4000-8000-000000000613';
interface Subnet { name: string; vni: number; cidr: string; gw: string; sw: string }
const SUBNETS: Subnet[] = [
  { name: 'a', vni: 610, cidr: '10.61.0.0/24', gw: '10.61.0.1', sw: '7e5a1c40-0000-4000-8000-000000000610' },
  { name: 'b', vni: 620, cidr: '10.62.0.0/24', gw: '10.62.0.1', sw: '7e5a1c40-0000-4000-8000-000000000620' },
  { name: 'c', vni: 630, cidr: '10.63.0.0/24', gw: '10.63.0.1', sw: '7e5a1c40-0000-4000-8000-000000000630' },
];
interface Vm { name: string; cn: string; subnet: Subnet; ip: string; mac: string }
const VMS: Vm[] = [
  { name: 'ra1', cn: 'cn1', subnet: SUBNETS[0]!, ip: '10.61.0.11', mac: '02:00:00:61:00:11' },
  { name: 'rb1', cn: 'cn1', subnet: SUBNETS[1]!, ip: '10.62.0.11', mac: '02:00:00:62:00:11' },
  { name: 'ra2', cn: 'cn2', subnet: SUBNETS[0]!, ip: '10.61.0.21', mac: '02:00:00:61:00:21' },
  { name: 'rc2', cn: 'cn2', subnet: SUBNETS[2]!, ip: '10.63.0.21', mac: '02:00:00:63:00:21' },
];
const vm = (name: string): Vm => VMS.find((v) => v.name === name)!;

const ov = new Overlay('rt');
const agents: Record<string, AgentProc> = {};
let dhcp: DhcpClients;

function vpcctl(cn: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [resolve(root, 'bin/vpcctl.js'), ...args], {
    encoding: 'utf8', env: { ...process.env, ...ov.env(cn) },
  });
  if (r.status !== 0) throw new Error(`[${cn}] vpcctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function collect(p: ChildProcess): { out: string[]; err: string[]; done: Promise<number | null>; proc: ChildProcess } {
  const out: string[] = [];
  const err: string[] = [];
  p.stdout!.setEncoding('utf8').on('data', (d: string) => out.push(d));
  p.stderr!.setEncoding('utf8').on('data', (d: string) => err.push(d));
  return { out, err, done: new Promise((r) => p.once('exit', (code) => r(code))), proc: p };
}

function ping(from: string, to: string, extra: string[] = []): { ok: boolean; out: string } {
  const r = ov.lab.run('ping', ['-n', '-c', '1', '-W', '3', ...extra, to], { ns: from, allowFail: true });
  return { ok: r.status === 0, out: r.stdout + r.stderr };
}

async function rstats(cn: string): Promise<Record<string, number>> {
  return (JSON.parse(vpcctl(cn, 'router', 'get', ROUTER, '--json')) as { stats: Record<string, number> }).stats;
}

before(async () => {
  const mappings = join(ov.tmp, 'mappings.json');
  writeFileSync(mappings, JSON.stringify({
    version: 1, mappings: VMS.map((v) => ({ vni: v.subnet.vni, mac: v.mac, vtep: ov.vtep(v.cn), ip: v.ip })),
  }, null, 2));
  dhcp = new DhcpClients(ov.lab, ov.tmp);
  for (const cn of ['cn1', 'cn2']) {
    await ov.addNode(cn);
    const vcc = vpcctl(cn, 'vcc', 'create', '--ipv4', ov.vtep(cn));
    vpcctl(cn, 'router', 'create', '--id', ROUTER);
    for (const s of SUBNETS) {
      vpcctl(cn, 'switch', 'create', '--id', s.sw, '--vni', String(s.vni), '--subnet', s.cidr);
      vpcctl(cn, 'switch', 'port', 'add', s.sw, '--uplink', '--vcc', vcc);
      vpcctl(cn, 'router', 'attach', ROUTER, s.sw);
    }
    for (const v of VMS.filter((x) => x.cn === cn)) {
      const nic = vpcctl(cn, 'vmnic', 'create', '--mac', v.mac, '--ifname', v.name, '--ip', v.ip, '--dhcp');
      vpcctl(cn, 'switch', 'port', 'add', v.subnet.sw, '--vmnic', '--nic', nic);
    }
    agents[cn] = await startAgent(['--resolver', 'file', '--mappings', mappings, '--ttl', '600000', '--log-level', 'info'], ov.env(cn));
  }
  for (const v of VMS) {
    ov.lab.addNs(v.name);
    ov.lab.ip(v.cn, 'link', 'set', v.name, 'netns', ov.lab.ns(v.name));
    dhcp.start(v.name);
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
    assert.deepEqual(routes.map((r) => `${r.destination} ${r.class}`), SUBNETS.map((s) => `${s.cidr} connected`));
  });

  test('every VM reaches every other across subnets and nodes, with the destination VNI on the underlay', async () => {
    const failures: string[] = [];
    const rows = await ov.capture('udp port 4789', async () => {
      for (const a of VMS) for (const b of VMS) if (a !== b && !ping(a.name, b.ip).ok) failures.push(`${a.name} -> ${b.name}`);
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
    const bytes = 2 * 1024 * 1024;
    const srv = collect(ov.lab.spawnIn('rc2', PY, [xferPy, 'serve', vm('rc2').ip, '5613']));
    await until(() => srv.out.join('').includes('ready'), 'the server in rc2');
    const cli = collect(ov.lab.spawnIn('ra1', PY, [xferPy, 'send', vm('rc2').ip, '5613', String(bytes), '7']));
    const [c1, c2] = await Promise.all([cli.done, srv.done]);
    assert.equal(c1, 0, cli.err.join(''));
    assert.equal(c2, 0, srv.err.join(''));
    const [n, sum] = cli.out.join('').trim().split(/\s+/);
    assert.equal(Number(n), bytes);
    assert.deepEqual(srv.out.join('').trim().split('\n').at(-1)!.split(/\s+/), [n, sum]);
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

  test('route replace under a continuous ping: no loss on the route that did not change', async () => {
    const file = join(ov.tmp, 'routes.json');
    const p = collect(ov.lab.spawnIn('ra1', 'ping', ['-n', '-q', '-i', '0.02', '-c', '300', '-W', '2', vm('rc2').ip]));
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
    assert.equal((JSON.parse(vpcctl('cn1', 'route', 'list', ROUTER, '--json')) as unknown[]).length, 3, 'connected routes only');
  });
});
