// SPDX-License-Identifier: BSD-2-Clause
/**
 * vpcctl as an operator runs it: a subprocess against a real vpc-hostd.
 * The seed's two examples from the shell; every usage error (exit 2, the
 * message and the command's usage, nothing called); every failed-op path
 * (exit 1, one line with the errno name, the op and the object); --json
 * output parsed and checked; docs/vpcctl.md matching the definitions.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { COMMANDS, renderDocs } from '../scripts/gen-vpcctl-docs.ts';
import { using } from '../src/cli/run.ts';
import { startHostd, type Hostd } from './helpers/hostd.ts';
import { root } from './helpers/paths.ts';

let hostd: Hostd;
let mappings: string;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function vpcctl(...args: string[]): Promise<Run> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [resolve(root, 'bin/vpcctl.js'), ...args], {
      env: { ...process.env, VPC_HOSTD_SOCKET: hostd.socket, VPC_MAPPINGS: mappings, COLUMNS: '120' },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    p.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    p.on('close', (status) => res({ status, stdout, stderr }));   // 'close': all output read
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await vpcctl(...args);
  assert.equal(r.status, 0, `vpcctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

async function json<T = Record<string, unknown>>(...args: string[]): Promise<T> {
  return JSON.parse(await ok(...args, '--json')) as T;
}

before(async () => {
  hostd = await startHostd({ setEnv: false });
  mappings = join(hostd.dir, 'mappings.json');
});
after(async () => { await hostd.stop(); });

describe('the seed examples from the shell', () => {
  test('a vmnic: create it, then set its MAC', async () => {
    const id = await ok('vmnic', 'create');
    assert.match(id, /^[0-9a-f-]{36}$/);
    await ok('vmnic', 'set-mac', id, '02:00:00:00:00:01');
    const nic = await json('vmnic', 'get', id);
    assert.equal(nic.mac, '02:00:00:00:00:01');
    assert.equal(nic.committed, true);
  });

  test('a switch: uplink and router if it has no ports, then a vmnic port with VLAN 123 and VNI 456', async () => {
    const sw = await ok('switch', 'create');
    const count = await json<{ ports: number }>('switch', 'port', 'count', sw);
    if (count.ports === 0) {
      assert.equal((await json('switch', 'port', 'add', sw, '--uplink')).kind, 'uplink');
      assert.equal((await json('switch', 'port', 'add', sw, '--router')).kind, 'router');
    }
    const p = await json('switch', 'port', 'add', sw, '--vmnic', '--vlan', '123', '--vni', '456');
    assert.deepEqual([p.kind, p.vlan, p.vni], ['vmnic', 123, 456]);
    assert.match(String(p.peer), /^[0-9a-f-]{36}$/, 'the port made a vmnic');
    await ok('vmnic', 'set-mac', String(p.peer), '02:00:00:00:00:02');
    const ports = await json<Array<Record<string, unknown>>>('switch', 'port', 'list', sw);
    assert.deepEqual(ports.map((x) => x.kind), ['uplink', 'router', 'vmnic']);
    assert.equal(ports[2]!.mac, '02:00:00:00:00:02');
    const s = await json('switch', 'get', sw);
    assert.deepEqual([s.vni, s.ports, s.uplink, s.router], [456, 3, true, true]);
    const table = await ok('switch', 'port', 'list', sw);
    assert.match(table.split('\n')[0]!, /^ID\s+KIND\s+VLAN\s+VNI\s+MAC\s+PEER\s+INGRESS\s+EGRESS$/);
  });
});

describe('DHCP on a vmnic', () => {
  test('vmnic create with DHCP options, vmnic get shows them, set-dhcp replaces them, --disable keeps them', async () => {
    const id = await ok('vmnic', 'create', '--mac', '02:00:00:00:0d:01', '--dns', '203.0.113.53', '--dns', '198.51.100.53',
      '--domain', 'example.internal', '--hostname', 'vm-d', '--lease', '3600', '--route', '198.51.100.0/24,203.0.113.254');
    let nic = await json('vmnic', 'get', id);
    assert.deepEqual(nic.dhcp, {
      enabled: true, leaseSeconds: 3600, dns: ['203.0.113.53', '198.51.100.53'], domain: 'example.internal', hostname: 'vm-d',
      routes: ['198.51.100.0/24,203.0.113.254'],
    });
    const r = await json('vmnic', 'set-dhcp', id, '--dns', '192.0.2.53');
    assert.deepEqual(r, { ok: true, id, dhcp: { enabled: true, leaseSeconds: 86400, dns: ['192.0.2.53'], routes: [] } });
    await ok('vmnic', 'set-dhcp', id, '--disable');
    nic = await json('vmnic', 'get', id);
    assert.deepEqual(nic.dhcp, { enabled: false, leaseSeconds: 86400, dns: ['192.0.2.53'], routes: [] });
    assert.match(await ok('vmnic', 'get', id), /^dhcp +\{"enabled":false/m, 'the key/value view shows it too');
    const plain = await json('vmnic', 'get', await ok('vmnic', 'create'));
    assert.equal(plain.dhcp, undefined, 'off and never configured: not shown');
    assert.deepEqual((await json('vmnic', 'get', await ok('vmnic', 'create', '--dhcp'))).dhcp,
      { enabled: true, leaseSeconds: 86400, dns: [], routes: [] });
  });
});

describe('every command, with --json', () => {
  test('vcc, cam, stats, status, lists, destroy', async () => {
    const vcc = (await json('vcc', 'create', '--ipv4', '127.0.0.1', '--port', '47890')).id as string;
    assert.deepEqual(await json('vcc', 'get', vcc).then((v) => [v.ipv4, v.port]), ['127.0.0.1', 47890]);
    const sw = (await json('switch', 'create', '--vni', '700', '--subnet', '10.7.0.0/24')).id as string;
    await ok('switch', 'port', 'add', sw, '--uplink', '--vcc', vcc);
    assert.deepEqual((await json('switch', 'get', sw)).subnets, ['10.7.0.0/24']);
    await ok('cam', 'set', sw, '02:00:00:00:07:01', '--vtep', '198.51.100.9', '--ttl', '60000', '--revision', '3');
    // Far longer than the test runs, however slow the machine: the flush below must find it.
    await ok('cam', 'set', sw, '02:00:00:00:07:02', '--negative', '--ttl', '3600000');
    const e = await json('cam', 'get', sw, '02:00:00:00:07:01');
    assert.deepEqual([e.kind, e.vtep, e.port, e.vni, e.revision, e.used], ['remote', '198.51.100.9', 4789, 700, 3, false]);
    // An older revision is an outcome of the operation (exit 1, ESTALE), not a usage error, and nothing changes.
    const stale = await vpcctl('cam', 'set', sw, '02:00:00:00:07:01', '--vtep', '198.51.100.10', '--revision', '2', '--json');
    assert.equal(stale.status, 1, stale.stderr);
    assert.equal((JSON.parse(stale.stdout) as { error: { code: string } }).error.code, 'ESTALE');
    assert.match(stale.stderr, /^vpcctl: ESTALE: not applied/);
    assert.equal((await json('cam', 'get', sw, '02:00:00:00:07:01')).vtep, '198.51.100.9');
    assert.equal((await json<unknown[]>('cam', 'dump', sw)).length, 2);
    await ok('cam', 'del', sw, '02:00:00:00:07:01');
    assert.deepEqual(await json('cam', 'flush', sw), { flushed: 1 });
    const st = await json('stats', sw);
    assert.equal(st.switch, sw);
    assert.equal(typeof st.upcalls, 'number');
    const status = await json('status');
    assert.equal(status.reachable, true);
    assert.ok((status.switch as number) >= 1);
    assert.ok((await json<unknown[]>('switch', 'list')).length >= 2);
    assert.ok((await json<unknown[]>('vmnic', 'list')).length >= 1);
    assert.deepEqual(await json('upcall', 'stats').then((u) => u.readers), 0);
    await ok('switch', 'set-vni', sw, '701');
    await ok('switch', 'destroy', sw);
    assert.equal((await vpcctl('switch', 'get', sw)).status, 1);
  });

  test('map set, get, list, del on the file directory', async () => {
    await ok('map', 'set', '100', '02:00:00:00:02:02', '198.51.100.2');
    await ok('map', 'set', '100', '02:00:00:00:02:03', '2001:db8:1::2', '--port', '4790');
    const m = await json('map', 'get', '100', '02:00:00:00:02:03');
    assert.deepEqual([m.vtep, m.port], ['2001:db8:1::2', 4790]);
    assert.equal((await json<unknown[]>('map', 'list', '--vni', '100')).length, 2);
    await ok('map', 'del', '100', '02:00:00:00:02:02');
    assert.equal((await json<unknown[]>('map', 'list')).length, 1);
    assert.match(readFileSync(mappings, 'utf8'), /"version": 1/);
  });

  test('map set --ip/--ip6: the addresses are kept; a second MAC for one is EADDRINUSE and changes nothing', async () => {
    const m = await json('map', 'set', '100', '02:00:00:00:02:05', '198.51.100.2', '--ip', '10.0.0.5', '--ip6', '2001:DB8::05');
    assert.deepEqual([m.ip, m.ip6], ['10.0.0.5', '2001:db8::5']);
    const before = readFileSync(mappings, 'utf8');
    for (const extra of [['--ip', '10.0.0.5'], ['--ip6', '2001:db8::5']]) {
      const r = await vpcctl('map', 'set', '100', '02:00:00:00:02:06', '198.51.100.3', ...extra, '--json');
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /EADDRINUSE: VNI 100 IP .* is already mapped to MAC 02:00:00:00:02:05/);
      assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'EADDRINUSE');
    }
    assert.equal(readFileSync(mappings, 'utf8'), before, 'the file is as it was');
    // The same address in another VNI is another address; moving it is del then set.
    await ok('map', 'set', '101', '02:00:00:00:02:06', '198.51.100.3', '--ip', '10.0.0.5');
    await ok('map', 'set', '100', '02:00:00:00:02:05', '198.51.100.2');
    await ok('map', 'set', '100', '02:00:00:00:02:06', '198.51.100.3', '--ip', '10.0.0.5');
    assert.equal((await json('map', 'get', '100', '02:00:00:00:02:06')).ip, '10.0.0.5');
    assert.equal((await vpcctl('map', 'set', '100', '02:00:00:00:02:07', '198.51.100.3', '--ip', '127.0.0.1')).status, 2);
  });

  test('vmnic set-addr, switch set-gateway|set-policy, nbr set|get|dump|del|flush', async () => {
    const sw = await ok('switch', 'create', '--vni', '702', '--subnet', '10.7.0.0/24', '--subnet', '2001:db8:7::/64');
    const nic = await ok('vmnic', 'create', '--mac', '02:00:00:00:07:01', '--ip', '10.7.0.5');
    await ok('switch', 'port', 'add', sw, '--vmnic', '--nic', nic);
    assert.deepEqual(await json('vmnic', 'set-addr', nic, '--ip', '10.7.0.6', '--ip6', '2001:db8:7::6'),
      { ok: true, id: nic, ipv4: '10.7.0.6', ipv6: '2001:db8:7::6' });
    const gw = await json<{ mac: string; ipv4: string }>('switch', 'set-gateway', sw, '--ipv4', '10.7.0.254');
    assert.equal(gw.ipv4, '10.7.0.254');
    const pol = await json('switch', 'set-policy', sw, '--bum', 'drop', '--upcall-rate', '50');
    assert.deepEqual([pol.bum, pol.upcallRate, pol.upcallBurst], ['drop', 50, 50]);
    const g = await json<{ gateway: { ipv4: string; ipv6: string; mac: string }; policy: { bum: string } }>('switch', 'get', sw);
    assert.deepEqual([g.gateway.ipv4, g.gateway.ipv6, g.policy.bum], ['10.7.0.254', '2001:db8:7::1', 'drop']);
    assert.match(g.gateway.mac, /^02:76:/);
    await ok('nbr', 'set', sw, '10.7.0.9', '--mac', '02:00:00:00:07:09', '--ttl', '600000', '--revision', '3');
    await ok('nbr', 'set', sw, '2001:db8:7::9', '--negative');
    const e = await json('nbr', 'get', sw, '10.7.0.9');
    assert.deepEqual([e.kind, e.mac, e.revision], ['found', '02:00:00:00:07:09', 3]);
    const dump = await json<Array<{ ip: string; kind: string }>>('nbr', 'dump', sw);
    assert.deepEqual(dump.map((x) => `${x.ip} ${x.kind}`).sort(), ['10.7.0.6 local', '10.7.0.9 found', '2001:db8:7::6 local', '2001:db8:7::9 negative']);
    const busy = await vpcctl('nbr', 'del', sw, '10.7.0.6');
    assert.equal(busy.status, 1);
    assert.match(busy.stderr, /EBUSY/);
    assert.equal((await vpcctl('nbr', 'set', sw, '10.8.0.9', '--mac', '02:00:00:00:07:09')).status, 1, 'outside the subnet: EINVAL');
    assert.equal((await vpcctl('nbr', 'set', sw, '10.7.0.9', '--mac', '02:00:00:00:07:09', '--negative')).status, 2);
    await ok('nbr', 'del', sw, '10.7.0.9');
    assert.deepEqual(await json('nbr', 'flush', sw), { flushed: 1 });
    await ok('switch', 'destroy', sw);
    await ok('vmnic', 'destroy', nic);
  });
});

describe('usage errors: exit 2, the message and the usage, nothing called', () => {
  const UUID = '3f0c5e4a-9b1d-4c2e-8f6a-1b2c3d4e5f60';
  const cases: Array<[string[], RegExp]> = [
    [[], /name a command/],
    [['bogus'], /Unknown argument: bogus/],
    [['vmnic'], /name a vmnic command/],
    [['vmnic', 'get', 'not-a-uuid'], /id: expected a UUID like/],
    [['vmnic', 'create', '--mac', '02:00:00:00:00'], /--mac: expected a MAC address like 02:00:00:00:00:01/],
    [['vmnic', 'create', '--mac', '01:00:5e:00:00:01'], /--mac: expected a unicast MAC/],
    [['vmnic', 'create', '--ifname', 'this-name-is-too-long'], /--ifname: expected an interface name/],
    [['vmnic', 'set-mac', UUID], /Not enough non-option arguments/],
    [['vmnic', 'set-dhcp', UUID, '--dns', '2001:db8::53'], /--dns: expected an IPv4 address/],
    [['vmnic', 'set-dhcp', UUID, '--route', '198.51.100.0/24'], /--route: expected DESTINATION\/PREFIX,GATEWAY/],
    [['vmnic', 'set-dhcp', UUID, '--route', '198.51.100.0/33,203.0.113.1'], /prefix \/33 is too long/],
    [['vmnic', 'set-dhcp', UUID, '--lease', '0'], /--lease: expected seconds 1-4294967295/],
    [['vmnic', 'create', '--domain', 'two words'], /--domain: expected 1-63 printable characters/],
    [['switch', 'create', '--vni', '16777216'], /--vni: expected a VNI \(24 bits\) 0-16777215/],
    [['switch', 'create', '--subnet', '10.0.0.0/33'], /prefix \/33 is too long for IPv4/],
    [['switch', 'port', 'add', UUID], /give exactly one of --uplink, --router, --vmnic \(got none\)/],
    [['switch', 'port', 'add', UUID, '--uplink', '--vmnic'], /give exactly one of --uplink, --router, --vmnic \(got --uplink --vmnic\)/],
    [['switch', 'port', 'add', UUID, '--vmnic', '--vlan', '0'], /--vlan: expected a VLAN id 1-4094, got '0'/],
    [['switch', 'port', 'add', UUID, '--vmnic', '--vlan', '4095'], /--vlan: expected a VLAN id 1-4094, got '4095'/],
    [['switch', 'port', 'add', UUID, '--vmnic', '--vcc', UUID], /--vcc goes with --uplink/],
    [['cam', 'set', UUID, '02:00:00:00:00:09'], /give exactly one of --vtep and --negative/],
    [['cam', 'set', UUID, '02:00:00:00:00:09', '--vtep', '300.1.1.1'], /--vtep: expected an IPv4 or IPv6 address/],
    [['cam', 'set', UUID, '02:00:00:00:00:09', '--vtep', '198.51.100.1', '--port', '70000'], /--port: expected a UDP port 1-65535/],
    [['cam', 'flush'], /give exactly one of a switch, --vni N, --all/],
    [['vcc', 'create'], /give --ipv4 and\/or --ipv6/],
    [['vcc', 'create', '--ipv4', '2001:db8::1'], /--ipv4: expected an IPv4 address/],
    [['vcc', 'create', '--ipv4', '198.51.100.1', '--mtu', '100'], /--mtu: expected an MTU 576-65535/],
    [['map', 'set', '100', '02:00:00:00:00:09', 'nowhere'], /vtep: expected an IPv4 or IPv6 address/],
    [['map', 'list', '--etcd-endpoints', 'localhost'], /--etcd-endpoints: expected URLs like http:\/\/127\.0\.0\.1:2379/],
    [['map', 'list', '--mappings', '/x', '--etcd-endpoints', 'http://127.0.0.1:1'], /give --mappings or --etcd-endpoints, not both/],
    [['upcall', 'watch', '--count', '0'], /--count: expected a count 1-/],
    [['vmnic', 'get', '00000000-0000-0000-0000-000000000000'], /id: the nil UUID 00000000-0000-0000-0000-000000000000 is reserved/],
    [['switch', 'create', '--id', '00000000-0000-0000-0000-000000000000'], /--id: the nil UUID .* is reserved/],
  ];
  test('each one, and nothing was created by any', async () => {
    const before = (await json('status')).objects;
    // Four at a time: each is a process of its own.
    for (let i = 0; i < cases.length; i += 4) {
      await Promise.all(cases.slice(i, i + 4).map(async ([args, want]) => {
        const r = await vpcctl(...args);
        assert.equal(r.status, 2, `vpcctl ${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, want, `vpcctl ${args.join(' ')}`);
        assert.match(r.stderr, /\n\nvpcctl( [a-z-]+)*( <[a-z]+>)*/, `the usage follows: ${r.stderr}`);
        assert.equal(r.stdout, '');
      }));
    }
    assert.equal((await json('status')).objects, before, 'nothing was created');
  });
});

describe('failed operations: exit 1, one line naming the errno, the op and the object', () => {
  test('each', async () => {
    const sw = await ok('switch', 'create', '--vni', '800');
    await ok('switch', 'port', 'add', sw, '--uplink');
    const nic = await ok('vmnic', 'create', '--mac', '02:00:00:00:08:01');
    await ok('switch', 'port', 'add', sw, '--vmnic', '--nic', nic);
    const other = await ok('vmnic', 'create', '--mac', '02:00:00:00:08:02');
    await ok('switch', 'port', 'add', sw, '--vmnic', '--nic', other);
    const missing = '3f0c5e4a-9b1d-4c2e-8f6a-1b2c3d4e5f60';
    const cases: Array<[string[], RegExp]> = [
      [['switch', 'create', '--id', sw], new RegExp(`^vpcctl: EEXIST: vpc_open on switch ${sw}: already exists$`)],
      [['switch', 'create', '--vni', '800'], /^vpcctl: EEXIST: VPC_OP_SW_SET_VNI on switch [0-9a-f-]+: already exists$/],
      [['switch', 'port', 'add', sw, '--uplink'], new RegExp(`^vpcctl: EEXIST: VPC_OP_SW_ADD_PORT on switch ${sw}: already exists$`)],
      [['vmnic', 'get', missing], new RegExp(`^vpcctl: ENOENT: vpc_open on vmnic ${missing}: no such object$`)],
      [['vmnic', 'set-mac', other, '02:00:00:00:08:01'], /^vpcctl: EEXIST: VPC_OP_NIC_SET_MAC on vmnic .*: already exists$/],
      [['vmnic', 'destroy', nic], /^vpcctl: EBUSY: VPC_OP_DESTROY on vmnic .*: in use$/],
      [['switch', 'get', nic], /^vpcctl: ENOENT: vpc_open on switch/],
      [['cam', 'get', sw, '02:00:00:00:09:09'], /^vpcctl: ENOENT: VPC_OP_SW_CAM_GET on switch/],
      [['cam', 'del', sw, '02:00:00:00:08:01'], /^vpcctl: EBUSY: VPC_OP_SW_CAM_DEL on switch/],
      [['cam', 'set', sw, '02:00:00:00:08:01', '--vtep', '198.51.100.1'], /^vpcctl: EBUSY: VPC_OP_SW_CAM_SET on switch/],
      [['switch', 'port', 'del', sw, missing], /^vpcctl: ENOENT: VPC_OP_SW_DEL_PORT on switch/],
      [['vcc', 'create', '--ipv4', '198.51.100.77'], /^vpcctl: EADDRNOTAVAIL: VPC_OP_VCC_SET on vcc/],
      [['map', 'get', '100', '02:00:00:00:09:09'], /^vpcctl: ENOENT: no mapping for VNI 100 MAC 02:00:00:00:09:09/],
    ];
    for (const [args, want] of cases) {
      const r = await vpcctl(...args);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.match(r.stderr.trim(), want, args.join(' '));
    }
  });

  test('with --json, a failure is a JSON error object on stdout, with the same exit status', async () => {
    const sw = await ok('switch', 'create', '--vni', '900');
    const missing = '3f0c5e4a-9b1d-4c2e-8f6a-1b2c3d4e5f61';
    const cases: Array<[string[], number, Record<string, unknown>]> = [
      [['switch', 'create', '--id', sw], 1, { code: 'EEXIST', errno: 17, op: 'vpc_open', objectId: sw }],
      [['vmnic', 'get', missing], 1, { code: 'ENOENT', errno: 2, op: 'vpc_open', objectId: missing }],
      [['switch', 'port', 'add', sw, '--vmnic', '--nic', missing], 1, { code: 'ENOENT', errno: 2, op: 'VPC_OP_SW_ADD_PORT', objectId: sw }],
      [['map', 'get', '100', '02:00:00:00:09:09'], 1, { code: 'ENOENT', errno: 2, op: 'map get' }],
      [['vmnic', 'get', 'not-a-uuid'], 2, { code: 'EINVAL', errno: 22, op: 'usage' }],
      [['vmnic', 'get', '00000000-0000-0000-0000-000000000000'], 2, { code: 'EINVAL', op: 'usage' }],
      [['bogus'], 2, { code: 'EINVAL', op: 'usage' }],
    ];
    for (const [args, status, want] of cases) {
      const r = await vpcctl(...args, '--json');
      assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
      let out: { error: Record<string, unknown> };
      assert.doesNotThrow(() => { out = JSON.parse(r.stdout); }, `stdout is one JSON document: ${r.stdout}`);
      const e = out!.error;
      for (const [k, v] of Object.entries(want)) assert.equal(e[k], v, `${args.join(' ')}: error.${k} in ${r.stdout}`);
      assert.equal(typeof e.message, 'string');
      assert.ok(r.stderr.startsWith(`vpcctl: ${String(e.message)}`), 'the same line for people on stderr');
    }
  });

  test('no daemon: status says so and exits 1', async () => {
    const r = await new Promise<Run>((res) => {
      const p = spawn(process.execPath, [resolve(root, 'bin/vpcctl.js'), 'status', '--json', '--socket', '/nonexistent/hostd.sock']);
      let stdout = '';
      let stderr = '';
      p.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
      p.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      p.on('close', (status) => res({ status, stdout, stderr }));   // 'close': all output read
    });
    assert.equal(r.status, 1);
    const st = JSON.parse(r.stdout);
    assert.equal(st.reachable, false);
    assert.equal(st.error.code, 'ECONNREFUSED', 'one object: the status and the error');
    assert.match(r.stderr, /ECONNREFUSED: the vpc kernel is not reachable at host \(\/nonexistent\/hostd\.sock\)/);
  });
});

test('docs/vpcctl.md matches the definitions (npm run gen:docs)', async () => {
  const current = readFileSync(resolve(root, 'docs/vpcctl.md'), 'utf8');
  const fresh = await renderDocs();
  if (current !== fresh && process.env.UPDATE_DOCS) writeFileSync(resolve(root, 'docs/vpcctl.md'), fresh);
  assert.equal(current, fresh, 'regenerate with `npm run gen:docs`');
});

test('docs/vpcctl.md documents every command vpcctl has', async () => {
  // The commands a --help lists (`  vpcctl <path> <sub> ...`), followed down
  // to the leaves; each must have its entry (and its --json shape) in the page.
  const documented = new Set(COMMANDS.map(([c]) => c));
  const missing: string[] = [];
  const walk = async (path: string[]): Promise<void> => {
    const r = await vpcctl(...path, '--help');
    const section = /Commands:\n([\s\S]*?)\n\n/.exec(r.stdout)?.[1] ?? '';
    const subs = [...section.matchAll(/^ {2}vpcctl (\S+(?: [a-z][\w-]*)*)/gm)].map((m) => m[1]!.split(' '));
    if (subs.length === 0) {
      if (!documented.has(path.join(' '))) missing.push(path.join(' '));
      return;
    }
    for (const s of subs) if (s.length > path.length) await walk(s);
  };
  await walk([]);
  assert.deepEqual(missing, [], 'add them to COMMANDS in scripts/gen-vpcctl-docs.ts');
});

describe('using(): every command closes what it opened, however it ends', () => {
  const handle = () => ({ closed: 0, close() { this.closed++; } });
  test('a value, a throw, a promise that resolves or rejects: closed once, after the work', async () => {
    const a = handle();
    assert.equal(using(a, (o) => o.closed), 0, 'still open while fn runs');
    assert.equal(a.closed, 1);
    const b = handle();
    assert.throws(() => using(b, () => { throw new Error('EINVAL: no'); }), /EINVAL/);
    assert.equal(b.closed, 1);
    const c = handle();
    const p = using(c, async (o) => { await new Promise((r) => setImmediate(r)); return o.closed; });
    assert.equal(c.closed, 0, 'not before the promise settles');
    assert.equal(await p, 0);
    assert.equal(c.closed, 1);
    const d = handle();
    await assert.rejects(using(d, async () => { throw new Error('ENOENT: gone'); }), /ENOENT/);
    assert.equal(d.closed, 1);
  });
});

describe('vpcctl fw: rule sets, the grammar, JSON, attach, errors', () => {
  test('create, rules, show in evaluation order, export/import, attach by port add and fw attach, EBUSY, bad rules exit 2', async () => {
    await ok('fw', 'create', '4242');
    await ok('fw', 'rules', '4242', 'in allow tcp from 10.0.0.0/8 port 22,443 priority 100', 'in deny udp priority 100', 'out allow any');
    const rules = await json<Array<{ text: string; hits: number }>>('fw', 'show', '4242');
    assert.deepEqual(rules.map((r) => r.text), [
      'in deny udp priority 100', 'in allow tcp from 10.0.0.0/8 port 22,443 priority 100', 'out allow priority 1000',
    ]);
    const exp = await json<{ id: number; rules: string[] }>('fw', 'export', '4242');
    assert.equal(exp.id, 4242);
    assert.equal(exp.rules.length, 3);
    const file = join(hostd.dir, 'fw.json');
    writeFileSync(file, JSON.stringify({ ...exp, id: 4243, keepEstablished: true }));
    await ok('fw', 'import', file);
    const s = await json<{ keepEstablished: boolean; rules: unknown[] }>('fw', 'get', '4243');
    assert.equal(s.keepEstablished, true);
    assert.equal(s.rules.length, 3);
    const sw = await ok('switch', 'create', '--vni', '4242');
    const port = await json<{ id: string; ingress: number }>('switch', 'port', 'add', sw, '--vmnic', '--ingress', '4242');
    assert.equal(port.ingress, 4242);
    let r = await vpcctl('fw', 'destroy', '4242', '--json');
    assert.equal(r.status, 1);
    assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'EBUSY');
    await ok('fw', 'attach', sw, port.id, '--egress', '4243');
    const ports = await json<Array<{ ingress?: number; egress?: number }>>('switch', 'port', 'list', sw);
    assert.deepEqual([ports[0]!.ingress, ports[0]!.egress], [undefined, 4243]);
    assert.deepEqual(await json<unknown[]>('fw', 'flows', sw, port.id), []);
    await ok('fw', 'destroy', '4242');
    r = await vpcctl('fw', 'rules', '4243', 'in allow tcp port 0');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /port/);
    r = await vpcctl('fw', 'rules', '4243', 'in allow tcp from 10.0.0.1/8', '--json');
    assert.equal(r.status, 2);
    assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'EINVAL');
    assert.equal((await json<{ rules: unknown[] }>('fw', 'get', '4243')).rules.length, 3, 'a refused replace changes nothing');
    const c = await json<{ udpSeconds: number }>('fw', 'config', '--udp', '30');
    assert.equal(c.udpSeconds, 30);
    await ok('fw', 'config', '--udp', '0');
    await ok('fw', 'attach', sw, port.id);
    await ok('fw', 'destroy', '4243');
    await ok('switch', 'destroy', sw);
  });
});
