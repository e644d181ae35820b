// SPDX-License-Identifier: BSD-2-Clause
/**
 * DHCPv4 and router advertisements served by the switch (host kernel, real
 * namespaces): one node cn1 with a switch on 203.0.113.0/24 and
 * 2001:db8:100::/64, and VMs whose namespaces hold their vmnics' TAPs:
 *   vm1  a real DHCP client (Debian's isc-dhcp-client dhclient, with a
 *        script of ours that applies the lease with ip(8) and records it;
 *        it never touches the host's /etc/resolv.conf), and SLAAC
 *   vm2  DHCP enabled but no IPv4 address: not served
 *   vm3  frames crafted with scapy (test/fixtures/dhcp.py): the protocol's
 *        corners and the bad-input table
 * A crafted frame is followed by an echo request to the gateway; its reply
 * comes after anything the switch answered to the frame, so "nothing was
 * answered" is read off the wire, not waited for.
 */
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DhcpClients } from './helpers/dhcp-client.ts';
import { Overlay, until } from './helpers/overlay.ts';

const fixtures = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, 'fixtures');
const PY = '/usr/bin/python3';
const dhcpPy = join(fixtures, 'dhcp.py');
const MAC = { vm1: '02:00:00:00:01:01', vm2: '02:00:00:00:02:02', vm3: '02:00:00:00:03:03' };
const IP = { vm1: '203.0.113.11', vm3: '203.0.113.13' };
const GW = '203.0.113.1';
const DNS = ['203.0.113.53', '198.51.100.53'];
const ROUTES = [{ destination: '198.51.100.0/24', gateway: '203.0.113.254' }, { destination: '192.0.2.128/25', gateway: '203.0.113.253' }];

const ov = new Overlay('dh', 100);
const { lab, node } = ov;
let gwMac = '';
let gwLl6 = '';
let dhclient: ChildProcess | undefined;

type Stats = Record<string, number> & { dhcpAck: number; dhcpRelease: number; dhcpDecline: number; raPeriodic: number };
async function swstats(): Promise<Stats> {
  return ((await node.cn1!.call('stats')) as { switch: Stats }).switch;
}
function delta(a: Stats, b: Stats, ...keys: string[]): Record<string, number> {
  return Object.fromEntries(keys.map((k) => [k, b[k]! - a[k]!]));
}

interface Reply {
  eth_src: string; eth_dst: string; ip_src?: string; ip_dst?: string; ttl?: number;
  op?: number; xid?: number; flags?: number; ciaddr?: string; yiaddr?: string; chaddr?: string; dport?: number;
  dhcp?: Record<string, unknown>; raw_opts?: string;
  ip6_src?: string; ip6_dst?: string; hlim?: number;
  ra?: { M: number; O: number; lifetime: number; chlim: number; slla?: string; mtu?: number; prefix?: string; L?: number; A?: number; valid?: number; preferred?: number; cksum_ok: boolean };
}

/** Send a crafted case from a VM; what came back before the probe's echo reply. */
function send(vm: 'vm2' | 'vm3', c: string, args: Record<string, unknown> = {}, count = 1): Reply[] {
  const spec = {
    mac: MAC[vm], ip: vm === 'vm3' ? IP.vm3 : '203.0.113.12', probe_ip: vm === 'vm3' ? IP.vm3 : '203.0.113.12',
    gw_mac: gwMac, gw_ip: GW, case: c, args, count,
  };
  const out = lab.run(PY, [dhcpPy, 'send', vm, JSON.stringify(spec)], { ns: vm, timeoutMs: 60_000 }).stdout;
  const r = JSON.parse(out) as { replies: Reply[]; probe: boolean };
  assert.ok(r.probe, `${c}: the gateway answered the probe`);
  return r.replies;
}
const dhcpReplies = (rs: Reply[]) => rs.filter((r) => r.dhcp !== undefined);
/** The advertisements among them, to one address (the VM's kernel solicits too). */
const ras = (rs: Reply[], to = 'fe80::3:3') => rs.filter((r) => r.ra !== undefined && r.ip6_dst === to);

/** The records our dhclient script wrote: one object per call. */
let clients: DhcpClients;
const records = (vm: string) => clients.records(vm);
const reasons = (vm: string) => records(vm).map((r) => r.reason);
const dhclientArgs = (vm: string) => clients.args(vm);

before(async () => {
  await ov.addNode('cn1');
  await ov.setup('cn1', [{ name: 'vm1', mac: MAC.vm1, ip: '' }, { name: 'vm2', mac: MAC.vm2, ip: '' }, { name: 'vm3', mac: MAC.vm3, ip: '' }]);
  await node.cn1!.call('l3', {
    subnets: ['203.0.113.0/24', '2001:db8:100::/64'],
    vms: [
      // vm1's and vm3's IPv6 addresses are what SLAAC forms from their MACs
      // (the prefix and the EUI-64): the RA tells them to form it (A flag).
      { ifname: 'vm1', ip: IP.vm1, ip6: '2001:db8:100::ff:fe00:101', dhcp: { dns: DNS, domain: 'example.internal', hostname: 'vm-one', routes: ROUTES, leaseSeconds: 10 } },
      { ifname: 'vm2', dhcp: {} },
      { ifname: 'vm3', ip: IP.vm3, ip6: '2001:db8:100::ff:fe00:303', dhcp: { hostname: 'vm-three' } },
    ],
  });
  const g = (await node.cn1!.call('gateway')) as { mac: string; linkLocal: string };
  gwMac = g.mac;
  gwLl6 = g.linkLocal;
  // dhclient renews and releases by unicast through the kernel's UDP socket,
  // which ARPs for the server (the gateway): the switch answers that ARP.
  // The client's files live in the test's directory: nothing of the host's is read or written.
  clients = new DhcpClients(lab, ov.tmp);
});

/**
 * SIGKILL a dhclient started under setsid, with its process group (a
 * dhclient-script it may be running, so that no half-run RENEW re-applies an
 * address after the release), and wait for its exit.
 */
async function stopClient(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((res) => p.once('exit', res));
  try {
    process.kill(-p.pid!, 'SIGKILL');
  } catch {
    p.kill('SIGKILL');          // its group already gone: the process alone
  }
  await exited;
}

after(async () => {
  assert.deepEqual(await ov.close(), [], 'the daemons stopped cleanly');
});

describe('DHCPv4 from the switch, to a real client', () => {
  test('dhclient gets its address, mask, MTU, routes, DNS, domain and host name', async () => {
    const s0 = await swstats();
    dhclient = lab.spawnIn('vm1', 'setsid', ['dhclient', '-d', '-v', ...dhclientArgs('vm1')]);
    await until(() => reasons('vm1').includes('BOUND'), 'dhclient to bind');
    // Counted now: T1's renewal (5 s on) would add an ACK on a slow machine.
    const sBound = await swstats();
    const bound = records('vm1').find((r) => r.reason === 'BOUND')!;
    assert.equal(bound.new_ip_address, IP.vm1);
    assert.equal(bound.new_subnet_mask, '255.255.255.0');
    assert.equal(bound.new_broadcast_address, '203.0.113.255');
    assert.equal(bound.new_routers, GW);
    assert.equal(bound.new_dhcp_server_identifier, GW);
    assert.equal(bound.new_domain_name_servers, DNS.join(' '));
    assert.equal(bound.new_domain_name, 'example.internal');
    assert.equal(bound.new_host_name, 'vm-one');
    assert.equal(bound.new_interface_mtu, '1450', "the vmnic's MTU (behind a 1500 IPv4 underlay)");
    assert.equal(bound.new_dhcp_lease_time, '10');
    assert.equal(bound.new_dhcp_renewal_time, '5');
    assert.equal(bound.new_dhcp_rebinding_time, '8');
    // RFC 3442: 24.198.51.100 via .254, 25.192.0.2.128 via .253, and the default route (0) via the gateway.
    assert.equal(bound.new_rfc3442_classless_static_routes,
      '24 198 51 100 203 0 113 254 25 192 0 2 128 203 0 113 253 0 203 0 113 1');
    // What the script applied, as the VM sees it.
    assert.match(lab.ip('vm1', '-4', '-o', 'addr', 'show', 'dev', 'vm1').stdout, /inet 203\.0\.113\.11\/24 brd 203\.0\.113\.255/);
    assert.match(lab.ip('vm1', '-o', 'link', 'show', 'vm1').stdout, / mtu 1450 /);
    // The hook that reports BOUND runs as dhclient-script applies the lease:
    // its routes may still be on their way in.
    let routes = '';
    await until(() => /^default /m.test(routes = lab.ip('vm1', '-4', 'route', 'show').stdout), 'the default route applied');
    assert.match(routes, /^default via 203\.0\.113\.1 dev vm1/m);
    assert.match(routes, /^198\.51\.100\.0\/24 via 203\.0\.113\.254 dev vm1/m);
    assert.match(routes, /^192\.0\.2\.128\/25 via 203\.0\.113\.253 dev vm1/m);
    const d = delta(s0, sBound, 'dhcpOffer', 'dhcpAck', 'dhcpMalformed', 'flooded');
    assert.deepEqual({ offer: d.dhcpOffer, ack: d.dhcpAck, malformed: d.dhcpMalformed }, { offer: 1, ack: 1, malformed: 0 });
  });

  test('renewal: dhclient renews at T1 by unicast to the gateway (opte#946) and is ACKed', async () => {
    // The lease is 10 s, so T1 is 5 s: the renewal is the client's own,
    // unicast to the server identifier, so to the gateway's MAC.
    const s0 = await swstats();
    await until(() => reasons('vm1').includes('RENEW'), 'dhclient to renew');
    const renew = records('vm1').find((r) => r.reason === 'RENEW')!;
    assert.equal(renew.new_ip_address, IP.vm1);
    assert.equal(renew.old_ip_address, IP.vm1);
    assert.ok((await swstats()).dhcpAck - s0.dhcpAck >= 1);
    assert.ok(!reasons('vm1').includes('REBIND'), 'never had to rebind: the unicast renewal was answered');
    assert.ok(!reasons('vm1').includes('EXPIRE'));
  });

  test('release: dhclient -r sends a DHCPRELEASE, counted', async () => {
    // Stop the running client ourselves first, and for sure. `dhclient -r`
    // would SIGTERM it and the test used to wait for it to exit: once in CI
    // that wait never ended (the 10-minute test timeout). Debian's dhclient
    // (4.4.3) shuts down on SIGTERM from a handler that calls into its event
    // library, which is not async-signal-safe, and it ignores every signal
    // after the first, so nothing bounds that exit. With the old client gone,
    // `dhclient -r` finds a stale pid file and releases the lease file's
    // lease itself: what this test is about is our server seeing the
    // DHCPRELEASE, and the script removing the address.
    await stopClient(dhclient!);
    const s0 = await swstats();
    const rel = lab.spawnIn('vm1', 'setsid', ['dhclient', '-r', '-v', ...dhclientArgs('vm1')]);
    const err: string[] = [];
    rel.stderr!.setEncoding('utf8').on('data', (d: string) => err.push(d));
    rel.stdout!.setEncoding('utf8').on('data', (d: string) => err.push(d));
    try {
      await until(async () => (await swstats()).dhcpRelease > s0.dhcpRelease, 'the release to be counted');
    } catch (e) {
      throw new Error(`${(e as Error).message}: ${err.join('')} ${JSON.stringify(records('vm1').slice(-2))} hostd: ${ov.hostd.cn1!.stderr().slice(-3000)}`);
    }
    // The client runs our script with RELEASE after it sent the message.
    await until(() => reasons('vm1').includes('RELEASE'), 'the script to see the release');
    await until(() => rel.exitCode !== null || rel.signalCode !== null, 'dhclient -r to exit');
    assert.equal(rel.exitCode, 0, err.join(''));
    assert.equal(lab.ip('vm1', '-4', '-o', 'addr', 'show', 'dev', 'vm1').stdout.trim(), '', 'the address is gone');
  });

  test('decline: a client that finds its address in use sends a DHCPDECLINE, counted', async () => {
    const s0 = await swstats();
    writeFileSync(join(ov.tmp, 'vm1.decline'), '');
    const p = lab.spawnIn('vm1', 'setsid', ['dhclient', '-d', '-v', ...dhclientArgs('vm1')]);
    try {
      await until(async () => (await swstats()).dhcpDecline > s0.dhcpDecline, 'the decline to be counted');
    } finally {
      p.kill('SIGKILL');
    }
    // The address stays the vmnic's: the next client is offered the same one.
    const offer = dhcpReplies(send('vm3', 'discover', { xid: 0x1001 }));
    assert.equal(offer.length, 1);
  });
});

describe('DHCPv4 corners, crafted', () => {
  test('DISCOVER: an OFFER unicast to yiaddr at the client MAC, with every option', async () => {
    const s0 = await swstats();
    const [o, ...rest] = dhcpReplies(send('vm3', 'discover', { xid: 0x2001 }));
    assert.equal(rest.length, 0);
    assert.equal(o!.dhcp!['message-type'], 'offer');
    assert.deepEqual({ xid: o!.xid, op: o!.op, yiaddr: o!.yiaddr, ciaddr: o!.ciaddr, chaddr: o!.chaddr },
      { xid: 0x2001, op: 2, yiaddr: IP.vm3, ciaddr: '0.0.0.0', chaddr: MAC.vm3 });
    assert.deepEqual({ src: o!.eth_src, dst: o!.eth_dst, ipSrc: o!.ip_src, ipDst: o!.ip_dst, dport: o!.dport },
      { src: gwMac, dst: MAC.vm3, ipSrc: GW, ipDst: IP.vm3, dport: 68 });
    assert.equal(o!.dhcp!.server_id, GW);
    assert.equal(o!.dhcp!.subnet_mask, '255.255.255.0');
    assert.equal(o!.dhcp!.router, GW);
    assert.equal(o!.dhcp!.broadcast_address, '203.0.113.255');
    assert.equal(o!.dhcp!.lease_time, 86400);
    assert.equal(o!.dhcp!.renewal_time, 43200);
    assert.equal(o!.dhcp!.rebinding_time, 75600);
    assert.equal(o!.dhcp!.hostname, 'vm-three');
    assert.equal(o!.dhcp!['interface-mtu'], 1450);
    assert.equal(o!.dhcp!.name_server, undefined, 'no DNS configured, none sent');
    assert.equal(o!.dhcp!.classless_static_routes, undefined, 'no routes configured: no option 121');
    assert.equal(delta(s0, await swstats(), 'dhcpOffer').dhcpOffer, 1);
  });

  test('option overload (52): options in the file and sname fields are read (RFC 2131 4.1)', () => {
    const [o] = dhcpReplies(send('vm3', 'overload-ok', { xid: 0x2010 }));
    assert.equal(o?.dhcp?.['message-type'], 'offer', 'the DISCOVER in the file field was read');
  });

  test('the broadcast flag: the OFFER goes to the broadcast MAC and address', () => {
    const [o] = dhcpReplies(send('vm3', 'discover', { xid: 0x2002, flags: 0x8000 }));
    assert.deepEqual({ dst: o!.eth_dst, ipDst: o!.ip_dst, flags: o!.flags }, { dst: 'ff:ff:ff:ff:ff:ff', ipDst: '255.255.255.255', flags: 0x8000 });
  });

  test('REQUEST, SELECTING: ours is ACKed; another server\'s ignored; a wrong address NAKed (broadcast)', async () => {
    const s0 = await swstats();
    let [a] = dhcpReplies(send('vm3', 'request-selecting', { xid: 0x2003, req: IP.vm3, sid: GW }));
    assert.equal(a!.dhcp!['message-type'], 'ack');
    assert.equal(a!.yiaddr, IP.vm3);
    assert.equal(dhcpReplies(send('vm3', 'request-selecting', { xid: 0x2004, req: IP.vm3, sid: '203.0.113.77' })).length, 0);
    [a] = dhcpReplies(send('vm3', 'request-selecting', { xid: 0x2005, req: '203.0.113.99', sid: GW }));
    assert.equal(a!.dhcp!['message-type'], 'nak');
    assert.deepEqual({ dst: a!.eth_dst, ipDst: a!.ip_dst, yiaddr: a!.yiaddr }, { dst: 'ff:ff:ff:ff:ff:ff', ipDst: '255.255.255.255', yiaddr: '0.0.0.0' });
    assert.equal(a!.dhcp!.lease_time, undefined, 'a NAK carries no configuration');
    assert.deepEqual(delta(s0, await swstats(), 'dhcpAck', 'dhcpNak', 'dhcpIgnored'), { dhcpAck: 1, dhcpNak: 1, dhcpIgnored: 1 });
  });

  test('REQUEST, INIT-REBOOT: the right address is ACKed, another NAKed', () => {
    assert.equal(dhcpReplies(send('vm3', 'request-init-reboot', { xid: 0x2006, req: IP.vm3 }))[0]!.dhcp!['message-type'], 'ack');
    assert.equal(dhcpReplies(send('vm3', 'request-init-reboot', { xid: 0x2007, req: '203.0.113.14' }))[0]!.dhcp!['message-type'], 'nak');
  });

  test('REQUEST, RENEWING: unicast to the gateway address and MAC; the ACK goes to ciaddr (opte#946)', () => {
    const [a] = dhcpReplies(send('vm3', 'request-renewing', { xid: 0x2008, ciaddr: IP.vm3 }));
    assert.equal(a!.dhcp!['message-type'], 'ack');
    assert.deepEqual({ dst: a!.eth_dst, ipDst: a!.ip_dst, ciaddr: a!.ciaddr, yiaddr: a!.yiaddr },
      { dst: MAC.vm3, ipDst: IP.vm3, ciaddr: IP.vm3, yiaddr: IP.vm3 });
    // A renewal of an address the vmnic does not have: NAK.
    assert.equal(dhcpReplies(send('vm3', 'request-renewing', { xid: 0x2009, ciaddr: '203.0.113.14' })).length, 0,
      'from another source address: anti-spoofing drops it first');
  });

  test('REQUEST, REBINDING: broadcast, ACKed to ciaddr', () => {
    const [a] = dhcpReplies(send('vm3', 'request-rebinding', { xid: 0x200a, ciaddr: IP.vm3 }));
    assert.equal(a!.dhcp!['message-type'], 'ack');
    assert.deepEqual({ dst: a!.eth_dst, ipDst: a!.ip_dst }, { dst: MAC.vm3, ipDst: IP.vm3 });
  });

  test('INFORM: an ACK with the options and no lease, to ciaddr', () => {
    const [a] = dhcpReplies(send('vm3', 'inform', { xid: 0x200b }));
    assert.equal(a!.dhcp!['message-type'], 'ack');
    assert.deepEqual({ yiaddr: a!.yiaddr, ciaddr: a!.ciaddr, ipDst: a!.ip_dst }, { yiaddr: '0.0.0.0', ciaddr: IP.vm3, ipDst: IP.vm3 });
    assert.equal(a!.dhcp!.lease_time, undefined);
    assert.equal(a!.dhcp!.subnet_mask, '255.255.255.0');
  });

  test('DECLINE and RELEASE: counted, not answered', async () => {
    const s0 = await swstats();
    assert.equal(dhcpReplies(send('vm3', 'decline')).length, 0);
    assert.equal(dhcpReplies(send('vm3', 'release')).length, 0);
    assert.deepEqual(delta(s0, await swstats(), 'dhcpDecline', 'dhcpRelease'), { dhcpDecline: 1, dhcpRelease: 1 });
  });

  test('a vmnic without an IPv4 address is not served: dropped and counted, not flooded', async () => {
    const s0 = await swstats();
    assert.equal(dhcpReplies(send('vm2', 'discover', { xid: 0x3001 })).length, 0);
    const d = delta(s0, await swstats(), 'dhcpNotServed', 'flooded');
    assert.deepEqual(d, { dhcpNotServed: 1, flooded: 0 });
  });

  test('a DHCP server in a VM (to port 68) is dropped and counted (snooping)', async () => {
    const s0 = await swstats();
    send('vm3', 'server-to-client', { xid: 0x3002 });
    assert.deepEqual(delta(s0, await swstats(), 'dhcpSnooped', 'flooded'), { dhcpSnooped: 1, flooded: 0 });
  });
});

describe('malformed DHCP: dropped and counted, never answered', () => {
  for (const c of ['bad-cookie', 'truncated-option', 'no-end', 'short', 'overload-bad', 'overload-nested', 'type-twice',
    'hlen', 'htype', 'op-reply', 'chaddr', 'giaddr', 'udp-cksum', 'sport', 'fragment']) {
    test(c, async () => {
      const s0 = await swstats();
      assert.deepEqual(dhcpReplies(send('vm3', c, { xid: 0x4000 })), [], 'nothing answered');
      assert.deepEqual(delta(s0, await swstats(), 'dhcpMalformed', 'dhcpOffer', 'flooded'), { dhcpMalformed: 1, dhcpOffer: 0, flooded: 0 });
    });
  }
});

describe('router advertisements', () => {
  test('a router solicitation gets an RA from the gateway\'s link-local, per RFC 4861', async () => {
    const s0 = await swstats();
    const ll = 'fe80::3:3';
    const [ra, ...rest] = ras(send('vm3', 'rs', { ll }));
    assert.equal(rest.length, 0);
    assert.deepEqual({ src: ra!.eth_src, dst: ra!.eth_dst, ip6Src: ra!.ip6_src, ip6Dst: ra!.ip6_dst, hlim: ra!.hlim },
      { src: gwMac, dst: MAC.vm3, ip6Src: gwLl6, ip6Dst: ll, hlim: 255 });
    assert.deepEqual(ra!.ra, {
      M: 0, O: 0, lifetime: 1800, chlim: 64, slla: gwMac, mtu: 1450, prefix: '2001:db8:100::/64', L: 1, A: 1,
      valid: 2592000, preferred: 604800, cksum_ok: true,
    });
    assert.equal(delta(s0, await swstats(), 'raSent').raSent, 1);
  });

  test('malformed solicitations are dropped and counted: hop limit, zero-length option, SLLA from ::', async () => {
    const s0 = await swstats();
    assert.deepEqual(ras(send('vm3', 'rs', { ll: 'fe80::3:3', hlim: 64 })), []);
    assert.deepEqual(ras(send('vm3', 'rs-zero-opt', { ll: 'fe80::3:3' })), []);
    assert.deepEqual(ras(send('vm3', 'rs-unspec-slla'), 'ff02::1'), []);
    assert.equal(delta(s0, await swstats(), 'rsMalformed').rsMalformed, 3);
  });

  test('solicitations are rate-limited per vmnic', async () => {
    const s0 = await swstats();
    const got = ras(send('vm3', 'rs', { ll: 'fe80::3:3', count: 10 }));
    const d = delta(s0, await swstats(), 'raSent', 'rsRatelimited');
    assert.ok(d.rsRatelimited! >= 1, `some were over the rate: ${JSON.stringify(d)}`);
    assert.ok(got.length >= 1 && got.length <= 4, `a burst of 3 (and one a second) answered: ${got.length}`);
    assert.ok(d.raSent! >= got.length);
  });

  test('RA guard: router advertisements and redirects from a VM are dropped and counted', async () => {
    const s0 = await swstats();
    send('vm3', 'ra', { ll: 'fe80::3:3' });
    send('vm3', 'redirect', { ll: 'fe80::3:3' });
    assert.deepEqual(delta(s0, await swstats(), 'raGuard', 'flooded'), { raGuard: 2, flooded: 0 });
    assert.doesNotMatch(lab.ip('vm1', '-6', 'route', 'show').stdout, /2001:db8:bad/, 'vm1 never heard of it');
  });

  test('SLAAC: vm1 forms an address in the subnet and a default route via the gateway\'s link-local', async () => {
    // vm1's interface came up before the switch had an IPv6 subnet: the
    // advertisement it got is the one sent soon after the subnet was set,
    // or the answer to a solicitation made now.
    lab.ip('vm1', 'link', 'set', 'vm1', 'down');
    lab.ip('vm1', 'link', 'set', 'vm1', 'up');
    await until(() => /inet6 2001:db8:100::[0-9a-f:]+\/64 scope global/.test(lab.ip('vm1', '-6', 'addr', 'show', 'dev', 'vm1').stdout),
      'a SLAAC address');
    const eui = MAC.vm1.split(':').map((x) => parseInt(x, 16));
    const spelled = `2001:db8:100::${((eui[0]! ^ 2) << 8 | eui[1]!).toString(16)}:${(eui[2]! << 8 | 0xff).toString(16)}:fe${eui[3]!.toString(16).padStart(2, '0')}:${(eui[4]! << 8 | eui[5]!).toString(16)}`;
    const want = new URL(`http://[${spelled}]/`).hostname.slice(1, -1); // RFC 5952's form, as ip(8) prints it
    const addrs = lab.ip('vm1', '-6', 'addr', 'show', 'dev', 'vm1').stdout;
    assert.ok(addrs.includes(want), addrs);
    await until(() => lab.ip('vm1', '-6', 'route', 'show', 'default').stdout.includes(`via ${gwLl6} dev vm1`), 'the default route');
    assert.match(lab.ip('vm1', '-6', 'route', 'show').stdout, /^2001:db8:100::\/64 dev vm1/m);
  });

  test('the gateway answers ping6 at its link-local', () => {
    const r = lab.run('ping', ['-6', '-n', '-q', '-c', '1', '-W', '5', `${gwLl6}%vm1`], { ns: 'vm1', allowFail: true });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  test('periodic RAs every policy ra_interval_s to every vmnic; none with VPC_RA_OFF', async () => {
    let s0 = await swstats();
    await node.cn1!.call('l3', { raInterval: 4 });
    // One soon after the change, then every 4 s: three vmnics each time.
    await until(async () => (await swstats()).raPeriodic - s0.raPeriodic >= 6, 'two rounds of periodic RAs');
    await node.cn1!.call('l3', { raInterval: 'off' });
    s0 = await swstats();
    await new Promise((r) => setTimeout(r, 6000));     // past the interval and the change's 1 s
    assert.equal((await swstats()).raPeriodic - s0.raPeriodic, 0, 'none while off');
    // Solicitations are still answered, with the longest router lifetime.
    const [ra] = ras(send('vm3', 'rs', { ll: 'fe80::3:4' }), 'fe80::3:4');
    assert.equal(ra?.ra?.lifetime, 9000);
    await node.cn1!.call('l3', { raInterval: 0 });
  });

  test('a switch with no IPv6 subnet drops solicitations (counted)', async () => {
    await node.cn1!.call('l3', { subnets: ['::/0'] });
    try {
      const s0 = await swstats();
      assert.deepEqual(ras(send('vm3', 'rs', { ll: 'fe80::3:5' }), 'fe80::3:5'), []);
      assert.equal(delta(s0, await swstats(), 'rsNoPrefix').rsNoPrefix, 1);
    } finally {
      await node.cn1!.call('l3', { subnets: ['2001:db8:100::/64'] });
    }
  });
});
