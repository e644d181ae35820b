// SPDX-License-Identifier: BSD-2-Clause
/**
 * MTUs on a real two-node overlay (host kernel, namespaces as in
 * overlay.test.ts): cn1 and cn2 run vpc-hostd with the defaults, vm1 on cn1
 * and vm2 on cn2 hold their vmnics' TAPs, cn3 is a plain host on the
 * underlay that sends crafted VXLAN.
 *
 *  - the vmnics default to what the underlay carries (1450 behind 1500 of
 *    IPv4), and the TAPs follow, also after they moved into the VMs'
 *    namespaces;
 *  - 4 MB of TCP each way, checked byte for byte (sha256): with the
 *    defaults (TCP through the TAPs' offloads: segments over the MTU cut
 *    by vpc-hostd on the way in, merged on the way out), and with the VMs'
 *    interfaces forced to 1500 inside, where
 *    only path MTU discovery can help (ICMP fragmentation needed, ICMPv6
 *    packet too big, decoded and checksum-checked by tshark); the underlay
 *    never carries a packet over its MTU;
 *  - frames from the underlay over a vmnic's MTU, or with a source MAC the
 *    underlay cannot have, never reach the VM;
 *  - the same transfers over an IPv6 underlay (1430).
 *
 * Nothing here is timed: transfers only have to finish (a stall of 60 s is
 * a failure with a message).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { root } from './helpers/paths.ts';
import { Overlay, sleep, until } from './helpers/overlay.ts';
import { collect, transfer as xfer } from './helpers/tcpxfer.ts';
import { stopProcess } from './helpers/proc.ts';

const VNI = 100;
const MAC = { vm1: '02:00:00:00:01:01', vm2: '02:00:00:00:02:02', far: '02:00:00:00:09:09' };
const IP = { vm1: '203.0.113.1', vm2: '203.0.113.2' };
const IP6 = { vm1: 'fd00:100::1', vm2: 'fd00:100::2' };
const VTEP6 = { cn1: '2001:db8:1::1', cn2: '2001:db8:1::2' };
const MB4 = 4 * 1024 * 1024;
const fixtures = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, 'fixtures');
const framesPy = join(fixtures, 'frames.py');
const PY = '/usr/bin/python3';

const ov = new Overlay('mt', VNI);
const { lab, node } = ov;
let port = 5000;

async function swstats(cn: string): Promise<Record<string, number>> {
  return ((await node[cn]!.call('stats')) as { switch: Record<string, number> }).switch;
}

function linkMtu(ns: string, ifname: string): number {
  const out = lab.ip(ns, '-o', 'link', 'show', ifname).stdout;
  return Number(/ mtu (\d+) /.exec(out)?.[1]);
}

/** BYTES of TCP from one VM to another's address, compared by sha256. */
function transfer(from: string, to: string, addr: string, bytes = MB4): Promise<number> {
  return xfer(lab, from, to, addr, port++, bytes);
}

/** tshark writing a pcap in a namespace while fn runs. */
async function capture(ns: string, iface: string, filter: string, fn: () => Promise<void>): Promise<string> {
  const pcap = join(ov.tmp, `${ns}-${iface}-${Date.now()}.pcap`);
  const cap = lab.spawnIn(ns, 'tshark', ['-n', '-q', '-i', iface, '-f', filter, '-w', pcap]);
  const err: string[] = [];
  cap.stderr!.setEncoding('utf8').on('data', (d: string) => err.push(d));
  await until(() => err.join('').includes('Capturing on'), `tshark on ${ns}/${iface}`, 20_000);
  try {
    await fn();
    await sleep(300);
  } finally {
    await stopProcess(cap, 'SIGINT', 'tshark');
  }
  return pcap;
}

function tshark(pcap: string, display: string, fields: string[]): string[][] {
  const out = lab.run('tshark', ['-n', '-r', pcap, '-o', 'ip.check_checksum:TRUE', '-Y', display, '-T', 'fields',
    '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])]).stdout;
  return out.trim().split('\n').filter(Boolean).map((l) => l.split('|'));
}

/** The VM's interface at 1500 for IPv4 and IPv6, the RAs' MTU option ignored: only PMTUD can save it. */
function forceMtu1500(vm: string): void {
  lab.run('sysctl', ['-qw', `net.ipv6.conf.${vm}.accept_ra_mtu=0`], { ns: vm });
  lab.ip(vm, 'link', 'set', vm, 'mtu', '1500');
  lab.run('sysctl', ['-qw', `net.ipv6.conf.${vm}.mtu=1500`], { ns: vm });
}

/** Every frame on the underlay fits its MTU (1500 of IP: 1514 on the wire). */
function assertUnderlayFits(pcap: string, what: string): number {
  const all = tshark(pcap, 'frame', ['frame.len']);
  const over = all.filter((r) => Number(r[0]) > 1514);
  assert.ok(all.length > 1000, `${what}: the transfer crossed the underlay (${all.length} frames)`);
  assert.equal(over.length, 0, `${what}: frames over the underlay's MTU: ${over.slice(0, 5).join(' ')}`);
  return all.length;
}

/**
 * The ICMP errors captured on a VM's interface: each well-formed, both
 * checksums valid (status 1: good), from the peer, carrying mtu.
 */
function assertIcmp(pcap: string, v6: boolean, from: string, to: string, mtu: number): number {
  const rows = v6
    ? tshark(pcap, 'icmpv6.type == 2', ['ipv6.src', 'ipv6.dst', 'icmpv6.code', 'icmpv6.mtu', 'icmpv6.checksum.status', 'frame.len', '_ws.malformed'])
    : tshark(pcap, 'icmp.type == 3', ['ip.src', 'ip.dst', 'icmp.code', 'icmp.mtu', 'ip.checksum.status', 'icmp.checksum.status', 'frame.len', '_ws.malformed']);
  assert.ok(rows.length > 0, `an ICMP${v6 ? 'v6 packet too big' : ' fragmentation needed'} reached the sender`);
  for (const r of rows) {
    const [src, dst, code, m] = r;
    // Quoted headers repeat ip.src/ip.dst: the outer ones come first.
    assert.equal(src!.split(',')[0], from, 'from the peer the datagram was for');
    assert.equal(dst!.split(',')[0], to, 'to the sender');
    assert.equal(code, v6 ? '0' : '4');
    assert.equal(Number(m), mtu, 'the MTU that fits');
    if (v6) {
      assert.equal(r[4], '1', 'ICMPv6 checksum good');
      assert.ok(Number(r[5]) <= 14 + 1280, 'within 1280 bytes');
      assert.equal(r[6], '', 'not malformed');
    } else {
      assert.equal(r[4]!.split(',')[0], '1', 'IPv4 header checksum good');
      assert.equal(r[5], '1', 'ICMP checksum good');
      assert.ok(Number(r[6]) <= 14 + 576, 'within 576 bytes');
      assert.equal(r[7], '', 'not malformed');
    }
  }
  return rows.length;
}

function diff(a: Record<string, number>, b: Record<string, number>, k: string): number {
  return b[k]! - a[k]!;
}

/** Both directions, with what the nodes counted meanwhile. */
async function bothWays(t: TestContext, what: string, a: string, b: string) {
  const d = { tooBig: 0, icmp: 0, limited: 0, overMtu: 0, icmpEachWay: [] as number[] };
  const notes: string[] = [];
  for (const [from, to, addr] of [['vm1', 'vm2', b], ['vm2', 'vm1', a]] as const) {
    // Each direction discovers its path MTU afresh: without this the second
    // would not have to (the receiver advertises an MSS from the path MTU it
    // learned as the sender before).
    for (const vm of ['vm1', 'vm2']) {
      lab.ip(vm, 'route', 'flush', 'cache');
      lab.ip(vm, '-6', 'route', 'flush', 'cache');
    }
    const s1 = await swstats('cn1');
    const s2 = await swstats('cn2');
    const secs = await transfer(from, to, addr);
    const e1 = await swstats('cn1');
    const e2 = await swstats('cn2');
    const sum = (k: string) => diff(s1, e1, k) + diff(s2, e2, k);
    d.tooBig += sum('dropTooBig');
    d.icmp += sum('icmpTooBig');
    d.limited += sum('icmpRatelimited');
    d.overMtu += sum('dropOverMtu');
    d.icmpEachWay.push(sum('icmpTooBig'));
    notes.push(`${from}->${to} ${secs} s (${sum('dropTooBig')} too big, ${sum('icmpTooBig')} ICMP sent, ${sum('icmpRatelimited')} rate-limited)`);
  }
  t.diagnostic(`${what}: 4 MiB ${notes.join(', ')}`);
  return d;
}

before(async () => {
  await ov.addNode('cn1');
  await ov.addNode('cn2');
  ov.addHost('cn3');
  // vpc-hostd sends a run of one flow's datagrams as one packet (UDP GSO),
  // which veth and bridges carry whole: the nodes' underlay interfaces cut
  // it into its datagrams here, as a NIC would, so that br0 sees what a
  // wire would carry.
  for (const cn of ['cn1', 'cn2']) lab.ip(cn, 'link', 'set', 'u0', 'gso_max_segs', '1');
  // The switches answer ARP and ND (from the resolver's table): no static
  // neighbour entries.  The gateway's default addresses are vm1's here.
  const l3 = { subnets: ['203.0.113.0/24', 'fd00:100::/64'], gateway: { ipv4: '203.0.113.254', ipv6: 'fd00:100::fe' } };
  await ov.setup('cn1', [{ name: 'vm1', mac: MAC.vm1, ip: IP.vm1, ip6: IP6.vm1 }], l3);
  await ov.setup('cn2', [{ name: 'vm2', mac: MAC.vm2, ip: IP.vm2, ip6: IP6.vm2 }], l3);
  const table = { [MAC.vm1]: ov.vtep('cn1'), [MAC.vm2]: ov.vtep('cn2') };
  const ips = {
    [IP.vm1]: [MAC.vm1, ov.vtep('cn1')], [IP6.vm1]: [MAC.vm1, ov.vtep('cn1')],
    [IP.vm2]: [MAC.vm2, ov.vtep('cn2')], [IP6.vm2]: [MAC.vm2, ov.vtep('cn2')],
  };
  await node.cn1!.call('resolve', { mode: 'auto', table, ips });
  await node.cn2!.call('resolve', { mode: 'auto', table, ips });
});

after(async () => {
  assert.deepEqual(await ov.close(), [], 'the daemons stopped cleanly');
});

describe('MTU on the host kernel, two nodes with the defaults', () => {
  test('vmnics default to what the underlay carries (1450), and so do their TAPs', async () => {
    for (const [cn, vm] of [['cn1', 'vm1'], ['cn2', 'vm2']] as const) {
      const m = (await node[cn]!.call('mtu', { ifname: vm })) as { mtu: number; isDefault: boolean; fit: number };
      assert.deepEqual({ mtu: m.mtu, isDefault: m.isDefault, fit: m.fit }, { mtu: 1450, isDefault: true, fit: 1450 });
      assert.equal(linkMtu(vm, vm), 1450, `${vm}'s interface, in its own namespace`);
    }
  });

  test('a TAP moved into the VM namespace follows NIC_SET_MTU (vpcctl vmnic set --mtu)', async () => {
    const id = ((await node.cn1!.call('mtu', { ifname: 'vm1' })) as { id: string }).id;
    const vpcctl = (...args: string[]) => new Promise<{ code: number | null; out: string; err: string }>((res) => {
      const p = spawn(process.execPath, [resolve(root, 'bin/vpcctl.js'), ...args], { env: { ...process.env, ...ov.env('cn1') } });
      const c = collect(p);
      void c.done.then((code) => res({ code, out: c.out.join(''), err: c.err.join('') }));
    });
    let r = await vpcctl('vmnic', 'set', id, '--mtu', '1400', '--json');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), { ok: true, id, mtu: 1400, mtuDefault: false });
    assert.equal(linkMtu('vm1', 'vm1'), 1400, 'set in the VM namespace, where the TAP is now');
    r = await vpcctl('vmnic', 'set', id, '--mtu', '1500', '--json');
    assert.equal(r.code, 1, 'more than the underlay carries');
    assert.match(r.err, /EINVAL/);
    assert.equal(linkMtu('vm1', 'vm1'), 1400, 'unchanged');
    r = await vpcctl('vmnic', 'set', id, '--mtu', 'default', '--json');
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).mtu, 1450);
    assert.equal(linkMtu('vm1', 'vm1'), 1450);
  });

  test('4 MiB of TCP each way with the defaults: nothing too big, the underlay never over its MTU', async (t) => {
    let d: Awaited<ReturnType<typeof bothWays>> | undefined;
    let vmPcap = '';
    const pcap = await capture('ul', 'br0', 'udp port 4789', async () => {
      vmPcap = await capture('vm1', 'vm1', 'tcp', async () => {
        d = await bothWays(t, 'defaults (1450)', IP.vm1, IP.vm2);
      });
    });
    assert.equal(d!.tooBig, 0, 'no frame was too big for the underlay');
    assert.equal(d!.overMtu, 0);
    assertUnderlayFits(pcap, 'defaults');
    // The TAP's offloads at work (host_vnet.c, host_gro.c): vm1's stack hands
    // its TAP TCP in segments over the MTU, which vpc-hostd cuts (the
    // underlay check above), and gets vm2's segments merged into frames over
    // the MTU; the bytes are right (sha256, in transfer()).
    const big = tshark(vmPcap, 'tcp && frame.len > 1464', ['ip.src']);
    const sent = big.filter((r) => r[0] === IP.vm1).length;
    const got = big.filter((r) => r[0] === IP.vm2).length;
    assert.ok(sent > 0, 'vm1 sent TSO frames through its TAP');
    assert.ok(got > 0, 'vm1 received merged frames from its TAP');
    t.diagnostic(`on vm1's interface: ${sent} TSO frames sent, ${got} merged frames received`);
  });

  test('VMs forced to 1500 inside: PMTUD converges on ICMP fragmentation needed (1450)', async (t) => {
    // Forced: the switch's periodic RAs carry the MTU (1450), which would
    // lower the VMs' IPv6 MTU whenever one arrives; these VMs ignore it.
    for (const vm of ['vm1', 'vm2']) forceMtu1500(vm);
    let d: Awaited<ReturnType<typeof bothWays>> | undefined;
    let vmPcap = '';
    const ulPcap = await capture('ul', 'br0', 'udp port 4789', async () => {
      vmPcap = await capture('vm1', 'vm1', 'icmp or icmp6', async () => {
        d = await bothWays(t, 'forced 1500, IPv4', IP.vm1, IP.vm2);
      });
    });
    assert.ok(d!.icmpEachWay.every((n) => n > 0), `PMTUD had to happen each way: ${JSON.stringify(d)}`);
    const n = assertIcmp(vmPcap, false, IP.vm2, IP.vm1, 1450);
    assertUnderlayFits(ulPcap, 'forced 1500');
    t.diagnostic(`vm1 received ${n} well-formed ICMP fragmentation needed (MTU 1450)`);
  });

  test('...and over IPv6 inside: ICMPv6 packet too big (1450)', async (t) => {
    let d: Awaited<ReturnType<typeof bothWays>> | undefined;
    let vmPcap = '';
    const ulPcap = await capture('ul', 'br0', 'udp port 4789', async () => {
      vmPcap = await capture('vm1', 'vm1', 'icmp6', async () => {
        d = await bothWays(t, 'forced 1500, IPv6 inside', IP6.vm1, IP6.vm2);
      });
    });
    assert.ok(d!.icmpEachWay.every((n) => n > 0), `PMTUD had to happen each way: ${JSON.stringify(d)}`);
    const n = assertIcmp(vmPcap, true, IP6.vm2, IP6.vm1, 1450);
    assertUnderlayFits(ulPcap, 'forced 1500, IPv6 inside');
    t.diagnostic(`vm1 received ${n} well-formed ICMPv6 packet too big (MTU 1450)`);
  });

  test('frames from the underlay over the vmnic MTU never reach the VM (1600, 9014, 65000 bytes)', async () => {
    const rx = collect(lab.spawnIn('vm1', PY, [framesPy, 'count', 'vm1', '2', '120']));
    await until(() => rx.out.join('').includes('ready'), 'the receiver');
    const before = await swstats('cn1');
    for (const len of [1464, 1465, 1600, 9014, 65000]) {
      lab.run(PY, [framesPy, 'vxlan', ov.vtep('cn1'), String(VNI), MAC.vm1, MAC.far, String(len)], { ns: 'cn3' });
    }
    await rx.done;
    const s = await swstats('cn1');
    assert.equal(Number(rx.out.join('').trim().split('\n').at(-1)), 1, 'only the 1464-byte frame (1450 + 14) arrived');
    assert.equal(diff(before, s, 'dropOverMtu'), 4);
    assert.equal(diff(before, s, 'rxRemote'), 5);
  });

  test("frames from the underlay with a local vmnic's, a multicast or a zero source MAC are dropped", async () => {
    const rx = collect(lab.spawnIn('vm1', PY, [framesPy, 'count', 'vm1', '2', '120']));
    await until(() => rx.out.join('').includes('ready'), 'the receiver');
    const before = await swstats('cn1');
    const send = (dst: string, src: string) =>
      lab.run(PY, [framesPy, 'vxlan', ov.vtep('cn1'), String(VNI), dst, src, '64'], { ns: 'cn3' });
    send(MAC.vm1, MAC.vm1);                 // vm1's own MAC, from outside
    send('ff:ff:ff:ff:ff:ff', MAC.vm1);     // ...broadcast (would flood)
    send(MAC.vm1, '01:00:5e:00:00:01');     // multicast source
    send(MAC.vm1, '00:00:00:00:00:00');     // zero source
    send(MAC.vm1, MAC.far);                 // a remote source: delivered
    await rx.done;
    const s = await swstats('cn1');
    assert.equal(Number(rx.out.join('').trim().split('\n').at(-1)), 1, 'only the frame from a remote MAC arrived');
    assert.equal(diff(before, s, 'dropUnderlaySpoof'), 4);
  });

  test('an IPv6 underlay: the vmnics follow to 1430, 4 MiB each way with the defaults and forced to 1500', async (t) => {
    for (const cn of ['cn1', 'cn2'] as const) {
      await node[cn]!.call('vccSet', { config: { ipv6: VTEP6[cn] } });
    }
    await node.cn1!.call('camSet', { entries: [{ dst: MAC.vm2, vtep: VTEP6.cn2, revision: 99 }] });
    await node.cn2!.call('camSet', { entries: [{ dst: MAC.vm1, vtep: VTEP6.cn1, revision: 99 }] });
    for (const vm of ['vm1', 'vm2']) {
      // The TAPs are in the VMs' namespaces: the daemon reached in there.
      assert.equal(linkMtu(vm, vm), 1430, `${vm} follows the vcc to 1430`);
    }
    let d = await bothWays(t, 'IPv6 underlay, defaults (1430)', IP.vm1, IP.vm2);
    assert.equal(d.tooBig, 0);
    // Forced: the switch's periodic RAs carry the MTU (1450), which would
    // lower the VMs' IPv6 MTU whenever one arrives; these VMs ignore it.
    for (const vm of ['vm1', 'vm2']) forceMtu1500(vm);
    let vmPcap = '';
    let d6: typeof d | undefined;
    const ulPcap = await capture('ul', 'br0', 'ip6 and udp port 4789', async () => {
      vmPcap = await capture('vm1', 'vm1', 'icmp or icmp6', async () => {
        d = await bothWays(t, 'IPv6 underlay, forced 1500', IP.vm1, IP.vm2);
        d6 = await bothWays(t, 'IPv6 underlay, forced 1500, IPv6 inside', IP6.vm1, IP6.vm2);
      });
    });
    for (const x of [d, d6!]) assert.ok(x.icmpEachWay.every((n) => n > 0), `PMTUD had to happen each way: ${JSON.stringify(x)}`);
    assertIcmp(vmPcap, false, IP.vm2, IP.vm1, 1430);
    assertIcmp(vmPcap, true, IP6.vm2, IP6.vm1, 1430);
    assertUnderlayFits(ulPcap, 'IPv6 underlay');
  });
});
