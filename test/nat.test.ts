// SPDX-License-Identifier: BSD-2-Clause
/**
 * vpcnat and vpclink on the host kernel with real namespaces: a compute
 * node (vpc-hostd in its namespace, cn1) whose interface up0 is a veth to a
 * "provider" namespace (pv, the outside world: 203.0.113.1/24, a real TCP
 * server and real HTTP servers).  The node keeps its own address on up0
 * (203.0.113.2) while a vpclink is bound to it; the provider routes to a
 * "far" namespace one hop further.  Four VMs in one subnet behind a router whose default route is
 * the internet (the NAT), all built with vpcctl:
 *  - vma has SNAT on 203.0.113.20: real TCP out to the provider's server
 *    (which sees the SNAT address), a 10 MB file fetched with curl from the
 *    provider's `python3 -m http.server`, checked byte for byte (the
 *    provider's TSO super-frames cut into segments by the link), ping
 *    (ICMP echo through SNAT), and a TTL that runs out at the provider
 *    (time exceeded translated back through SNAT);
 *  - vmb has the EIP 203.0.113.10: the provider pings it and reaches its
 *    HTTP server (curl gets the page; the server logs the provider's own
 *    address as the client);
 *  - vmc has neither: nothing gets out, and the drop is counted;
 *  - vmd has SNAT on a pool of two ports in blocks of one: it pings at the
 *    same time as vma (both answered), and a second flow to one remote
 *    exhausts its block (counted for vmd; vma unaffected);
 *  - vme has SNAT on vma's address: traceroute (UDP and ICMP) from vma
 *    lists every hop (the router, the provider, the far host), and tshark
 *    on the provider sees vma's and vme's flows to one server port leave
 *    from distinct external ports, each inside its VM's block;
 *  - the node's own traffic on up0 keeps working while the link is bound;
 *  - an EIP that moves here (bound here, or bound while the link was down
 *    and the link then bound): the provider's neighbour entry, set to
 *    "another node's" MAC, follows the gratuitous ARPs;
 *  - the NAT's upstream is given by address (the provider, 203.0.113.1) and
 *    resolved by the provider's real ARP; the MAC form still works;
 *  - the link unbound: the VMs' traffic is dropped and counted, the node's
 *    goes on; bound again, the upstream resolved anew, the VMs get out again;
 * everything goes when the test ends (the namespaces and the daemon).
 */
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Link, Nat, Router, type NatStats } from '../src/vpc/index.ts';
import { Overlay, until } from './helpers/overlay.ts';
import { root, VPCCTL_TIMEOUT_MS } from './helpers/paths.ts';

const PY = '/usr/bin/python3';
const ROUTER = '7e5a1c40-0000-4000-8000-000000000815';
const SW = '7e5a1c40-0000-4000-8000-000000000816';
const SUBNET = { cidr: '10.80.0.0/24', gw: '10.80.0.1', vni: 800 };
const PROVIDER = { ip: '203.0.113.1', node: '203.0.113.2', eip: '203.0.113.10', snat: '203.0.113.20' };
const VMS = [
  { name: 'vma', ip: '10.80.0.11', mac: '02:00:00:80:00:11' },
  { name: 'vmb', ip: '10.80.0.12', mac: '02:00:00:80:00:12' },
  { name: 'vmc', ip: '10.80.0.13', mac: '02:00:00:80:00:13' },
  { name: 'vmd', ip: '10.80.0.14', mac: '02:00:00:80:00:14' },
  { name: 'vme', ip: '10.80.0.15', mac: '02:00:00:80:00:15' },
];
/* Behind the provider, one router hop further: for TTL-exceeded through NAT. */
const FAR = { net: '198.18.0.0/24', pv: '198.18.0.1', ip: '198.18.0.2' };
/* vmd's pool: two ports in blocks of one, so a second flow to one remote exhausts it. */
const TINY = { ext: '203.0.113.30', lo: 3000, hi: 3001 };

/* Serve TCP on addr:port: answer every connection with the peer's address. */
const SERVER = `
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(8)
print("ready", flush=True)
while True:
    c, a = s.accept()
    c.sendall(("peer=%s\\n" % a[0]).encode()); c.close()
`;
/* UDP datagrams from each source port given to addr:port. */
const UDP_SEND = `
import socket, sys
for p in sys.argv[3:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("", int(p)))
    s.sendto(b"x", (sys.argv[1], int(sys.argv[2]))); s.close()
`;
/* Echo UDP datagrams on addr:port, printing each one's source and size. */
const UDP_ECHO = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
while True:
    d, a = s.recvfrom(65535)
    print("from %s %d" % (a[0], len(d)), flush=True)
    s.sendto(d, a)
`;
/* One datagram of argv[3] bytes to addr:port: "whole" when its echo is the same bytes. */
const UDP_BIG = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(10)
d = bytes(i % 251 for i in range(int(sys.argv[3])))
s.sendto(d, (sys.argv[1], int(sys.argv[2])))
try:
    print("whole" if s.recvfrom(65535)[0] == d else "garbled")
except socket.timeout:
    print("silent")
`;
const CLIENT = `
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
print(c.recv(100).decode().strip())
`;

const ov = new Overlay('nt');
let nat: Nat;
let link: Link;
let rtr: Router;

const macOf = (ns: string, dev: string): string =>
  (JSON.parse(ov.lab.ip(ns, '-j', 'link', 'show', dev).stdout) as Array<{ address: string }>)[0]!.address;

function vpcctl(...args: string[]): string {
  const r = spawnSync(process.execPath, [resolve(root, 'bin/vpcctl.js'), ...args], {
    encoding: 'utf8', env: { ...process.env, ...ov.env('cn1') }, timeout: VPCCTL_TIMEOUT_MS,
  });
  if (r.status !== 0) throw new Error(`vpcctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function ping(from: string, to: string): boolean {
  return ov.lab.run('ping', ['-n', '-c', '1', '-W', '3', to], { ns: from, allowFail: true }).status === 0;
}

function connect(from: string, host: string, port: number): string {
  const r = ov.lab.run(PY, ['-c', CLIENT, host, String(port)], { ns: from, allowFail: true, timeoutMs: 15_000 });
  return r.status === 0 ? r.stdout.trim() : `failed: ${r.stderr.trim().split('\n').pop() ?? ''}`;
}

async function serve(ns: string, addr: string, port: number): Promise<string> {
  const p: ChildProcess = ov.lab.spawnIn(ns, PY, ['-c', SERVER, addr, String(port)]);
  let out = '';
  p.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  await until(() => out.includes('\n'), `the server in ${ns}`);
  return out.trim();
}

/**
 * Run body with `python3 -m http.server` serving a fresh temporary directory
 * (filled by fill) on addr:port in ns.  The server is killed and the
 * directory removed when body ends, also when it throws.  The server prints
 * "Serving HTTP" only once it listens (its socket is bound in the
 * constructor): waiting for that line is the readiness poll.
 */
async function withHttpServer<T>(ns: string, addr: string, port: number, fill: (dir: string) => void,
  body: (log: () => string) => T | Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(ov.tmp, 'http-'));
  let p: ChildProcess | undefined;
  try {
    fill(dir);
    p = ov.lab.spawnIn(ns, PY, ['-u', '-m', 'http.server', String(port), '--bind', addr, '--directory', dir]);
    let out = '';
    let log = '';   // its access log, one line per request, on stderr
    p.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
    p.stderr!.setEncoding('utf8').on('data', (d: string) => { log += d; });
    await until(() => out.includes('Serving HTTP') || p!.exitCode !== null, `the HTTP server in ${ns}`);
    assert.equal(p.exitCode, null, `the HTTP server in ${ns} exited: ${out}${log}`);
    return await body(() => log);
  } finally {
    p?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/* curl in ns: fails (with curl's message) on any transport or HTTP error. */
function curl(ns: string, url: string, ...args: string[]): string {
  const r = ov.lab.run('curl', ['-sS', '--fail', '--max-time', '60', ...args, url], { ns, allowFail: true, timeoutMs: 120_000 });
  assert.equal(r.status, 0, `curl ${url} in ${ns}: ${r.stderr}`);
  return r.stdout;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const natStats = (): NatStats => nat.stats();

before(async () => {
  await ov.addNode('cn1');
  // The provider: a veth from the node's namespace, addresses on both ends.
  ov.lab.addNs('pv');
  ov.lab.veth('cn1', 'up0', 'pv', 'p0');
  ov.lab.ip('cn1', 'addr', 'add', `${PROVIDER.node}/24`, 'dev', 'up0');
  ov.lab.ip('pv', 'addr', 'add', `${PROVIDER.ip}/24`, 'dev', 'p0');
  ov.lab.addNs('far');
  ov.lab.veth('pv', 'f0', 'far', 'eth0');
  ov.lab.ip('pv', 'addr', 'add', `${FAR.pv}/24`, 'dev', 'f0');
  ov.lab.ip('far', 'addr', 'add', `${FAR.ip}/24`, 'dev', 'eth0');
  ov.lab.ip('far', 'route', 'add', 'default', 'via', FAR.pv);
  ov.lab.run('sysctl', ['-qw', 'net.ipv4.ip_forward=1'], { ns: 'pv' });
  // The VPC: one subnet, its VMs, a router, built as an operator would.
  vpcctl('router', 'create', '--id', ROUTER);
  vpcctl('switch', 'create', '--id', SW, '--vni', String(SUBNET.vni), '--subnet', SUBNET.cidr);
  vpcctl('router', 'attach', ROUTER, SW);
  for (const v of VMS) {
    const nic = vpcctl('vmnic', 'create', '--mac', v.mac, '--ifname', v.name, '--ip', v.ip);
    vpcctl('switch', 'port', 'add', SW, '--vmnic', '--nic', nic);
    ov.lab.addNs(v.name);
    ov.lab.ip('cn1', 'link', 'set', v.name, 'netns', ov.lab.ns(v.name));
    ov.lab.ip(v.name, 'addr', 'add', `${v.ip}/24`, 'dev', v.name);
    ov.lab.ip(v.name, 'link', 'set', v.name, 'up');
    ov.lab.ip(v.name, 'route', 'add', 'default', 'via', SUBNET.gw);
  }
  // The link, the NAT and the router's default route to it, with vpcctl.
  const linkId = vpcctl('link', 'create', '--ifname', 'up0');
  const natId = vpcctl('nat', 'create');
  vpcctl('nat', 'set-link', natId, linkId);
  vpcctl('nat', 'attach', natId, ROUTER);
  vpcctl('route', 'add', ROUTER, '0.0.0.0/0', '--internet');
  vpcctl('nat', 'pool', 'add', natId, PROVIDER.snat);
  vpcctl('nat', 'snat', 'bind', natId, VMS[0]!.ip, PROVIDER.snat);
  vpcctl('nat', 'eip', 'bind', natId, VMS[1]!.ip, PROVIDER.eip);
  vpcctl('nat', 'pool', 'add', natId, TINY.ext, '--lo', String(TINY.lo), '--hi', String(TINY.hi), '--block', '1');
  vpcctl('nat', 'snat', 'bind', natId, VMS[3]!.ip, TINY.ext);
  vpcctl('nat', 'snat', 'bind', natId, VMS[4]!.ip, PROVIDER.snat);
  // The upstream by address: the NAT asks the provider by ARP at once.
  vpcctl('nat', 'config', natId, '--upstream-ip', PROVIDER.ip);
  // The checks read them through the typed API, in this process.
  Object.assign(process.env, ov.env('cn1'));
  link = Link.open(linkId);
  nat = Nat.open(natId);
  rtr = Router.open(ROUTER);
  await until(() => nat.stats().arpLearned > 0, "the provider's answer to the NAT's ARP request");
});

after(async () => {
  for (const o of [rtr, nat, link]) o?.close();
  assert.deepEqual(await ov.close(), [], 'the daemon stopped cleanly');
});

describe('vpcnat and vpclink: a VPC reaches a provider network', () => {
  test('vpcctl shows the NAT and the link (--json)', () => {
    const n = JSON.parse(vpcctl('nat', 'get', nat.id, '--json')) as { link: string; router: string; eips: unknown[]; config: { upstreamMac: string } };
    assert.equal(n.link, link.id);
    assert.equal(n.router, ROUTER);
    assert.deepEqual(n.eips, [{ private: VMS[1]!.ip, external: PROVIDER.eip }]);
    const l = JSON.parse(vpcctl('link', 'get', link.id, '--json')) as { ifname: string; users: number };
    assert.equal(l.ifname, 'up0');
    assert.equal(l.users, 1);
    const snat = JSON.parse(vpcctl('nat', 'snat', 'get', nat.id, VMS[0]!.ip, '--json')) as { external: string; blockSize: number };
    assert.deepEqual([snat.external, snat.blockSize], [PROVIDER.snat, 1024]);
  });

  test("the upstream given by address is resolved by the provider's real ARP", () => {
    assert.deepEqual([nat.config().upstreamIp, nat.config().upstreamMac], [PROVIDER.ip, undefined]);
    const s = natStats();
    assert.ok(s.arpRequests >= 1 && s.arpLearned >= 1, JSON.stringify(s));
    // The request came from the link's MAC with a NAT address as the sender:
    // the provider's kernel learned that address at the link's MAC.
    const n = JSON.parse(ov.lab.ip('pv', '-j', 'neigh', 'show', PROVIDER.snat, 'dev', 'p0').stdout) as Array<{ lladdr?: string }>;
    assert.equal(n[0]?.lladdr, macOf('cn1', 'up0'), JSON.stringify(n));
    // What the NAT learned, as an operator reads it: the provider's MAC, in use.
    const up = (JSON.parse(vpcctl('nat', 'get', nat.id, '--json')) as { upstream: { state: string; mac: string; ip: string; learnedMs?: number; askedMs?: number } }).upstream;
    assert.deepEqual([up.state, up.mac, up.ip], ['resolved', macOf('pv', 'p0'), PROVIDER.ip], JSON.stringify(up));
    assert.ok(up.learnedMs! >= 1 && up.askedMs! >= 1, JSON.stringify(up));
    // Bad input: refused with a clear error, the configuration unchanged.
    assert.throws(() => vpcctl('nat', 'config', nat.id, '--upstream-ip', '203.0.113.300'), /--upstream-ip/);
    assert.throws(() => vpcctl('nat', 'config', nat.id, '--upstream-ip', '127.0.0.1'), /EINVAL|invalid/i);
    assert.throws(() => vpcctl('nat', 'config', nat.id, '--upstream-ip', PROVIDER.ip, '--upstream-mac', macOf('pv', 'p0')),
      /mutually exclusive/);
    assert.equal(nat.config().upstreamIp, PROVIDER.ip);
  });

  test('the link is bound to up0 with its MAC, the NAT uses it', () => {
    const mac = (JSON.parse(ov.lab.ip('cn1', '-j', 'link', 'show', 'up0').stdout) as Array<{ address: string }>)[0]!.address;
    assert.deepEqual(link.get(), { ifname: 'up0', mac, users: 1 });
    assert.deepEqual(nat.attachments(), { linkId: link.id, routerId: ROUTER });
    assert.equal(rtr.natId(), nat.id);
  });

  test('a VM with SNAT connects out over TCP: the server sees the SNAT address', async () => {
    await serve('pv', PROVIDER.ip, 7000);
    const before = natStats();
    assert.equal(connect('vma', PROVIDER.ip, 7000), `peer=${PROVIDER.snat}`);
    const s = natStats();
    assert.ok(s.outSnat > before.outSnat && s.inSnat > before.inSnat, JSON.stringify(s));
    const flows = nat.flows().filter((f) => f.proto === 6 && f.private === VMS[0]!.ip);
    assert.ok(flows.length >= 1, 'the TCP flow is in the dump');
    const b = nat.snat(VMS[0]!.ip);
    assert.ok(flows.every((f) => f.external === PROVIDER.snat &&
      f.externalPort >= b.blocks.tcp && f.externalPort < b.blocks.tcp + b.blockSize), JSON.stringify(flows));
  });

  test('a VM with SNAT pings the provider (ICMP echo through SNAT)', () => {
    assert.ok(ping('vma', PROVIDER.ip), 'vma pings the provider');
    assert.ok(nat.flows().some((f) => f.proto === 1 && f.private === VMS[0]!.ip && f.remote === PROVIDER.ip));
  });

  test('a VM with SNAT sends a 4,000-byte UDP datagram (three fragments) and gets its echo back whole', async () => {
    const echo: ChildProcess = ov.lab.spawnIn('pv', PY, ['-u', '-c', UDP_ECHO, PROVIDER.ip, '5300']);
    try {
      let out = '';
      echo.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
      await until(() => out.includes('ready'), "the provider's UDP echo server");
      const before = natStats();
      const r = ov.lab.run(PY, ['-c', UDP_BIG, PROVIDER.ip, '5300', '4000'], { ns: VMS[0]!.name, allowFail: true, timeoutMs: 30_000 });
      assert.equal(r.stdout.trim(), 'whole', r.stderr);
      // The server saw it from the SNAT address; each way the two later
      // fragments followed their first (counted as translated, none dropped).
      await until(() => out.includes(`from ${PROVIDER.snat} 4000`), `the server's line: ${out}`);
      const after = natStats();
      assert.equal(after.dropFrag, before.dropFrag);
      assert.ok(after.outSnat - before.outSnat >= 3 && after.inSnat - before.inSnat >= 3, JSON.stringify({ before, after }));
    } finally {
      echo.kill('SIGKILL');
    }
  });

  test('the provider reaches a VM by its EIP: ping, and HTTP served by the VM', async () => {
    assert.ok(ping('pv', PROVIDER.eip), 'the provider pings the EIP');
    const page = `vmb behind ${PROVIDER.eip}: ${randomBytes(8).toString('hex')}\n`;
    await withHttpServer('vmb', '0.0.0.0', 8080, (dir) => writeFileSync(join(dir, 'index.html'), page), async (log) => {
      assert.equal(curl('pv', `http://${PROVIDER.eip}:8080/index.html`), page);
      // The VM's server saw the provider's own address: an EIP rewrites only the VM's side.
      // (Its log line reaches this process once the event loop runs again: curl ran synchronously.)
      await until(() => log().includes('GET /index.html'), "the VM's server to log the request");
      assert.match(log(), new RegExp(`^${PROVIDER.ip.replace(/\./g, '\\.')} .*"GET /index.html HTTP/1.1" 200`, 'm'), log());
    });
    // ...and the EIP VM's own connections out leave from its EIP.
    assert.equal(connect('vmb', PROVIDER.ip, 7000), `peer=${PROVIDER.eip}`);
    assert.ok(natStats().inEip > 0 && link.stats().arpReplies > 0);
  });

  test("an EIP moves here from another node: the provider's neighbour entry follows the gratuitous ARPs", async () => {
    const here = macOf('cn1', 'up0');
    const elsewhere = '02:00:00:00:99:01';
    const eipAt = (): string | undefined =>
      (JSON.parse(ov.lab.ip('pv', '-j', 'neigh', 'show', PROVIDER.eip, 'dev', 'p0').stdout) as Array<{ lladdr?: string }>)[0]?.lladdr;
    const livedElsewhere = (): void => {
      ov.lab.ip('pv', 'neigh', 'replace', PROVIDER.eip, 'lladdr', elsewhere, 'dev', 'p0', 'nud', 'stale');
      assert.equal(eipAt(), elsewhere);
    };
    const vm = VMS[1]!.ip;
    // It lived at another node's NAT; that node let go of it, this one binds it: announced at once.
    livedElsewhere();
    const garps = link.stats().garpSent;
    vpcctl('nat', 'eip', 'unbind', nat.id, vm);
    vpcctl('nat', 'eip', 'bind', nat.id, vm, PROVIDER.eip);
    await until(() => eipAt() === here, "the provider's entry for the EIP at the link's MAC");
    assert.ok(link.stats().garpSent > garps);
    // Bound here while this node's link was down: nothing could be said then; the link up says it.
    livedElsewhere();
    vpcctl('link', 'unbind', link.id);
    vpcctl('nat', 'eip', 'unbind', nat.id, vm);
    vpcctl('nat', 'eip', 'bind', nat.id, vm, PROVIDER.eip);
    assert.equal(eipAt(), elsewhere);
    const learned = natStats().arpLearned;
    vpcctl('link', 'bind', link.id, 'up0');
    await until(() => eipAt() === here, 'the EIP announced when the link came up');
    await until(() => natStats().arpLearned > learned, 'the upstream resolved on the link bound again');
    assert.ok(ping('pv', PROVIDER.eip), 'the provider reaches the EIP at its new place');
  });

  test('a VM with neither EIP nor SNAT gets nothing out, and the drop is counted', () => {
    const before = natStats().dropNocfg;
    assert.equal(ping('vmc', PROVIDER.ip), false);
    assert.ok(natStats().dropNocfg > before, 'counted as dropNocfg');
    assert.match(connect('vmc', PROVIDER.ip, 7000), /^failed/);
  });

  test("a VM with SNAT downloads 10 MB over HTTP byte for byte (bulk TCP in: the sender's TSO super-frames cut into segments)", async () => {
    const file = randomBytes(10 << 20);
    await withHttpServer('pv', PROVIDER.ip, 7100, (dir) => writeFileSync(join(dir, 'big.bin'), file), () => {
      const got = mkdtempSync(join(ov.tmp, 'curl-'));
      try {
        const dest = join(got, 'big.bin');
        curl('vma', `http://${PROVIDER.ip}:7100/big.bin`, '-o', dest);
        const b = readFileSync(dest);
        assert.deepEqual([b.length, sha256(b)], [file.length, sha256(file)]);
      } finally {
        rmSync(got, { recursive: true, force: true });
      }
    });
  });

  test('ping with a TTL that runs out past the provider: time exceeded comes back through SNAT', () => {
    assert.ok(ping('vma', FAR.ip), 'vma reaches the far network');
    const r = ov.lab.run('ping', ['-n', '-c', '1', '-W', '3', '-t', '2', FAR.ip], { ns: 'vma', allowFail: true });
    assert.match(r.stdout, new RegExp(`From ${PROVIDER.ip.replace(/\./g, '\\.')}.*Time to live exceeded`), r.stdout + r.stderr);
    assert.ok(natStats().icmperrIn > 0, 'an ICMP error translated in');
  });

  for (const mode of [{ name: 'UDP', flags: [] as string[] }, { name: 'ICMP', flags: ['-I'] }]) {
    test(`traceroute (${mode.name}) from a VM with SNAT lists every hop to the far host: each hop's time exceeded translated back`, () => {
      const before = natStats().icmperrIn;
      // One probe a hop, one at a time: no hop's ICMP rate limit can eat a probe's answer.
      const r = ov.lab.run('traceroute', ['-n', '-q', '1', '-N', '1', '-w', '5', '-m', '8', ...mode.flags, FAR.ip],
        { ns: 'vma', allowFail: true, timeoutMs: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      const hops = r.stdout.split('\n').slice(1).filter((l) => l.trim() !== '')
        .map((l) => l.trim().split(/\s+/).slice(0, 2).join(' '));
      assert.deepEqual(hops, [`1 ${SUBNET.gw}`, `2 ${PROVIDER.ip}`, `3 ${FAR.ip}`], r.stdout);
      // The provider's time exceeded (and, for UDP, the far host's port unreachable) came in through SNAT.
      assert.ok(natStats().icmperrIn >= before + (mode.name === 'UDP' ? 2 : 1), JSON.stringify(natStats()));
    });
  }

  test('two VMs on one SNAT address to one server port: tshark on the provider sees distinct external ports, each in its VM\'s block', async () => {
    const PORT = 9997;
    const MARK = '5100';      // vma's marker flow: tshark is known to capture once it shows
    const srcPorts = Array.from({ length: 16 }, (_, i) => String(5101 + i));
    const cap = ov.lab.spawnIn('pv', 'tshark', ['-i', 'p0', '-n', '-l',
      '-f', `udp and dst host ${PROVIDER.ip} and dst port ${PORT}`, '-T', 'fields', '-e', 'ip.src', '-e', 'udp.srcport']);
    let out = '';
    cap.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
    const rows = (): string[][] => out.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
    const send = (vm: string, ports: string[]): void => {
      ov.lab.run(PY, ['-c', UDP_SEND, PROVIDER.ip, String(PORT), ...ports], { ns: vm });
    };
    let markPort: number | undefined;
    try {
      // "Capturing on" may come before the capture really starts: wait for a marker to show instead.
      await until(() => { send('vma', [MARK]); return rows().length > 0; }, 'tshark to see the marker');
      markPort = Number(rows()[0]![1]);
      // The same private source ports from both VMs: only the NAT keeps them apart.
      for (const vm of [VMS[0]!, VMS[4]!]) send(vm.name, srcPorts);
      await until(() => rows().filter(([, p]) => Number(p) !== markPort).length >= 2 * srcPorts.length,
        'tshark to see every datagram').catch((e: Error) => {
        throw new Error(`${e.message}: seen ${out}; NAT ${JSON.stringify(natStats())}; link ${JSON.stringify(link.stats())}`);
      });
    } finally {
      cap.kill();
    }
    const seen = rows().filter(([, p]) => Number(p) !== markPort);
    assert.equal(seen.length, 2 * srcPorts.length, out);
    assert.ok(seen.every(([src]) => src === PROVIDER.snat), out);
    const extPorts = seen.map(([, p]) => Number(p));
    assert.equal(new Set(extPorts).size, extPorts.length, `an external (address, port) used twice: ${out}`);
    // Each VM's flows: its own block's ports, and together exactly what left.
    const fromFlows: number[] = [];
    for (const vm of [VMS[0]!, VMS[4]!]) {
      const b = nat.snat(vm.ip);
      const ports = nat.flows().filter((f) => f.proto === 17 && f.private === vm.ip && f.remotePort === PORT &&
        f.privatePort !== Number(MARK)).map((f) => f.externalPort);
      assert.equal(ports.length, srcPorts.length, `${vm.name}'s flows`);
      assert.ok(ports.every((p) => p >= b.blocks.udp && p < b.blocks.udp + b.blockSize), `${vm.name}: ${ports} outside [${b.blocks.udp}, +${b.blockSize})`);
      fromFlows.push(...ports);
    }
    assert.deepEqual([...extPorts].sort((a, b) => a - b), fromFlows.sort((a, b) => a - b));
  });

  test('two VMs with SNAT ping at once: both answered', async () => {
    const run = (ns: string): Promise<number | null> => new Promise((res) => {
      ov.lab.spawnIn(ns, 'ping', ['-n', '-c', '3', '-i', '0.2', '-W', '3', PROVIDER.ip]).once('exit', (code) => res(code));
    });
    assert.deepEqual(await Promise.all([run('vma'), run('vmd')]), [0, 0]);
  });

  test('port exhaustion with a tiny block: counted for that VM, the others unaffected', async () => {
    const before = nat.snat(VMS[3]!.ip).exhausted.udp;
    // Two flows from vmd to one remote port, one port in its block.
    ov.lab.run(PY, ['-c', UDP_SEND, PROVIDER.ip, '9999', '5001', '5002'], { ns: 'vmd' });
    // The daemon takes the datagrams after the sender returns.
    await until(() => nat.snat(VMS[3]!.ip).exhausted.udp > before, 'the exhaustion to be counted');
    const b = nat.snat(VMS[3]!.ip);
    assert.equal(b.blockSize, 1);
    assert.ok(natStats().dropExhausted > 0);
    assert.ok(ping('vma', PROVIDER.ip), 'vma still gets out');
  });

  test("the node's own traffic on up0 keeps working while the link is bound", () => {
    const before = link.stats().rxPassed;
    assert.ok(ping('cn1', PROVIDER.ip), 'the node pings the provider');
    assert.ok(ping('pv', PROVIDER.node), 'the provider pings the node');
    assert.ok(link.stats().rxPassed > before, "the node's frames were left to its stack");
  });

  test('the upstream by MAC still works; by address again, resolved again', async () => {
    vpcctl('nat', 'config', nat.id, '--upstream-mac', macOf('pv', 'p0'));
    assert.deepEqual([nat.config().upstreamMac, nat.config().upstreamIp], [macOf('pv', 'p0'), undefined]);
    assert.deepEqual(nat.upstream(), { state: 'by-mac', mac: macOf('pv', 'p0'), ip: undefined, learnedMs: undefined, askedMs: undefined });
    assert.ok(ping('vma', PROVIDER.ip), 'vma gets out by the MAC form');
    const learned = natStats().arpLearned;
    vpcctl('nat', 'config', nat.id, '--upstream-ip', PROVIDER.ip);
    await until(() => natStats().arpLearned > learned, 'the upstream resolved again');
    assert.ok(ping('vma', PROVIDER.ip), 'vma gets out by the address form');
  });

  test('unbinding the link stops what is translated (counted), the node keeps its traffic; binding again restores it', async () => {
    const before = natStats().dropNoLink;
    vpcctl('link', 'unbind', link.id);
    assert.equal(link.get().ifname, undefined);
    assert.equal(ping('vma', PROVIDER.ip), false);
    assert.ok(natStats().dropNoLink > before, 'counted as dropNoLink');
    assert.ok(ping('cn1', PROVIDER.ip), 'the node still reaches the provider');
    const learned = natStats().arpLearned;
    vpcctl('link', 'bind', link.id, 'up0');
    // Bound again (maybe to another network): the upstream is asked for anew.
    await until(() => natStats().arpLearned > learned, 'the upstream resolved on the link bound again');
    assert.ok(ping('vma', PROVIDER.ip), 'vma gets out again');
  });
});
