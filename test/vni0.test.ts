// SPDX-License-Identifier: BSD-2-Clause
/**
 * A VNI 0 switch on the host kernel with real namespaces: the switch
 * carries no VXLAN; its uplink is VLAN 100 on the node's interface up0, a
 * veth to a "provider" namespace (pv), the physical network.  Built with
 * vpcctl as an operator would:
 *   vcc create --ipv4 <the node's> --l2 up0; switch create --vni 0;
 *   switch port add --uplink --vlan 100; two vmnics.
 * This machine's kernel has neither 8021q nor a VLAN-filtering bridge, so
 * the provider's VLANs are access ports made in user space (VLAN_PORT
 * below): a TAP per VLAN, each with a real Linux stack behind it (VLAN 100
 * in pv, VLAN 200 in its own namespace), joined to p0 by a small process
 * that tags what the TAP sends and hands the TAP what arrives with its tag.
 * Checked with real clients (ping, a TCP transfer, tshark):
 *  - the two VMs reach each other on the switch (nothing leaves the node);
 *  - a VM reaches the provider's address on VLAN 100 (ARP and echo, both
 *    ways), and the frames on the wire carry the 802.1Q tag 100;
 *  - a 4 MiB TCP transfer at full size (MTU 1500, the VNI 0 default: no
 *    encapsulation) from the provider to a VM, byte for byte;
 *  - the provider on VLAN 200 or untagged is not reachable (isolation);
 *  - the node's own untagged traffic on up0 keeps working beside it;
 *  - a vpclink on up0 beside the uplink (a NAT's outside: the untagged
 *    network) answers ARP for its NAT addresses only when asked untagged:
 *    an ARP request on VLAN 100 for one of them is not its business;
 * everything goes when the test ends (the namespaces, the daemon, the
 * access-port processes).
 */
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Overlay, until } from './helpers/overlay.ts';
import { root, VPCCTL_TIMEOUT_MS } from './helpers/paths.ts';

const PY = '/usr/bin/python3';
const VLAN = 100;
const NET = { vlan100: '192.0.2.1', vlan200: '192.0.2.2', untagged: '192.0.2.3' };
/* NAT addresses on a link bound to up0: one in VLAN 100's prefix, one in the untagged network's. */
const NAT_ON_VLAN = '192.0.2.50';
const NAT_UNTAGGED = '198.18.5.50';
const NODE = { own: '198.18.5.2', pv: '198.18.5.1' };
const VMS = [
  { name: 'vza', ip: '192.0.2.11', mac: '02:00:00:00:0a:11' },
  { name: 'vzb', ip: '192.0.2.12', mac: '02:00:00:00:0a:12' },
];

/*
 * An 802.1Q access port in user space: a TAP (argv[1]) for VLAN argv[3] on
 * the trunk argv[2].  What arrives on the trunk with that VLAN goes to the
 * TAP untagged (Linux moves a received tag into the packet's metadata, read
 * back with PACKET_AUXDATA; an in-band tag is taken too); what the TAP's
 * stack sends goes out on the trunk tagged.  Prints "ready" once both ends
 * are open.
 */
const VLAN_PORT = `
import fcntl, os, select, socket, struct, sys
tap_name, trunk, vid = sys.argv[1], sys.argv[2], int(sys.argv[3])
tap = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(tap, 0x400454ca, struct.pack("16sH", tap_name.encode(), 0x0002 | 0x1000))  # TUNSETIFF, IFF_TAP | IFF_NO_PI
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((trunk, 0))
s.setsockopt(263, 8, 1)  # SOL_PACKET, PACKET_AUXDATA
print("ready", flush=True)
while True:
    r, _, _ = select.select([s, tap], [], [])
    if s in r:
        data, anc, _, addr = s.recvmsg(65600, socket.CMSG_SPACE(20))
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        tag = None
        for level, kind, v in anc:
            if level == 263 and kind == 8:
                status, _, _, _, _, tci = struct.unpack("IIIHHH", v[:18])
                if status & 0x10:  # TP_STATUS_VLAN_VALID
                    tag = tci & 0xfff
        if tag is None and len(data) >= 18 and data[12:14] == b"\\x81\\x00":
            tag = struct.unpack("!H", data[14:16])[0] & 0xfff
            data = data[:12] + data[16:]
        if tag == vid:
            os.write(tap, data)
    if tap in r:
        f = os.read(tap, 65600)
        s.send(f[:12] + struct.pack("!HH", 0x8100, vid) + f[12:])
`;

/* Send n bytes of the file at argv[3] to whoever connects to addr:port, once. */
const SEND_FILE = `
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1)
print("ready", flush=True)
c, a = s.accept()
c.sendall(open(sys.argv[3], "rb").read()); c.close()
`;
/* Read everything from addr:port into argv[3]. */
const RECV_FILE = `
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
with open(sys.argv[3], "wb") as f:
    while True:
        b = c.recv(65536)
        if not b: break
        f.write(b)
`;

const ov = new Overlay('v0');
let sw = '';

function vpcctl(...args: string[]): string {
  const r = spawnSync(process.execPath, [resolve(root, 'bin/vpcctl.js'), ...args], {
    encoding: 'utf8', env: { ...process.env, ...ov.env('cn1') }, timeout: VPCCTL_TIMEOUT_MS,
  });
  if (r.status !== 0) throw new Error(`vpcctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

const macOf = (ns: string, dev: string): string =>
  (JSON.parse(ov.lab.ip(ns, '-j', 'link', 'show', dev).stdout) as Array<{ address: string }>)[0]!.address;

function ping(from: string, to: string): boolean {
  return ov.lab.run('ping', ['-n', '-c', '1', '-W', '2', to], { ns: from, allowFail: true }).status === 0;
}

/* The switch's counters, as `vpcctl stats` prints them. */
const stats = (): Record<string, number> => JSON.parse(vpcctl('stats', sw, '--json')) as Record<string, number>;

before(async () => {
  await ov.addNode('cn1');
  ov.lab.addNs('pv');
  ov.lab.veth('cn1', 'up0', 'pv', 'p0');
  ov.lab.ip('cn1', 'link', 'set', 'up0', 'up');
  ov.lab.ip('pv', 'link', 'set', 'p0', 'up');
  // The node's own address on up0, untagged, beside the VNI 0 uplink.
  ov.lab.ip('cn1', 'addr', 'add', `${NODE.own}/24`, 'dev', 'up0');
  ov.lab.ip('pv', 'addr', 'add', `${NODE.pv}/24`, 'dev', 'p0');
  // The physical network: VLAN 100 (the switch's) in pv, VLAN 200 in its
  // own namespace, both with addresses in the VMs' prefix; and an address
  // of that prefix on the untagged network too.
  ov.lab.addNs('v200');
  for (const [id, ns, addr] of [[100, 'pv', NET.vlan100], [200, 'v200', NET.vlan200]] as const) {
    const port = ov.lab.spawnIn('pv', PY, ['-u', '-c', VLAN_PORT, `vl${id}`, 'p0', String(id)]);
    let out = '';
    port.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
    port.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d; });
    await until(() => out.includes('ready') || port.exitCode !== null, `the VLAN ${id} access port`);
    assert.equal(port.exitCode, null, `the VLAN ${id} access port: ${out}`);
    if (ns !== 'pv') ov.lab.ip('pv', 'link', 'set', `vl${id}`, 'netns', ov.lab.ns(ns));
    ov.lab.ip(ns, 'addr', 'add', `${addr}/24`, 'dev', `vl${id}`);
    ov.lab.ip(ns, 'link', 'set', `vl${id}`, 'up');
  }
  ov.lab.ip('pv', 'addr', 'add', `${NET.untagged}/32`, 'dev', 'p0');
  // Answer ARP only on the interface that has the address: else pv's stack
  // would answer for the untagged address on VLAN 100 too (Linux's weak host).
  ov.lab.run('sysctl', ['-qw', 'net.ipv4.conf.all.arp_ignore=1'], { ns: 'pv' });
  // A vcc has an underlay address even when it serves only VNI 0 (the
  // core asks for one): the node's own, where nothing else listens on 4789.
  const vcc = vpcctl('vcc', 'create', '--ipv4', NODE.own, '--l2', 'up0');
  sw = vpcctl('switch', 'create', '--vni', '0');
  vpcctl('switch', 'port', 'add', sw, '--uplink', '--vcc', vcc, '--vlan', String(VLAN));
  for (const v of VMS) {
    const nic = vpcctl('vmnic', 'create', '--mac', v.mac, '--ifname', v.name);
    vpcctl('switch', 'port', 'add', sw, '--vmnic', '--nic', nic);
    ov.lab.addNs(v.name);
    ov.lab.ip('cn1', 'link', 'set', v.name, 'netns', ov.lab.ns(v.name));
    ov.lab.ip(v.name, 'addr', 'add', `${v.ip}/24`, 'dev', v.name);
    ov.lab.ip(v.name, 'link', 'set', v.name, 'up');
  }
});

after(async () => {
  assert.deepEqual(await ov.close(), [], 'the daemon stopped cleanly');
});

describe('a VNI 0 switch bridges VMs to a VLAN of the physical network', () => {
  test('vpcctl shows a VNI 0 switch with its uplink on VLAN 100', () => {
    const s = JSON.parse(vpcctl('switch', 'get', sw, '--json')) as { vni: number; uplink: boolean };
    assert.deepEqual([s.vni, s.uplink], [0, true]);
    const ports = JSON.parse(vpcctl('switch', 'port', 'list', sw, '--json')) as Array<{ kind: string; vlan: number }>;
    assert.deepEqual(ports.filter((p) => p.kind === 'uplink').map((p) => p.vlan), [VLAN]);
  });

  test('the two VMs reach each other on the switch', () => {
    assert.ok(ping('vza', VMS[1]!.ip), 'vza -> vzb');
    assert.ok(ping('vzb', VMS[0]!.ip), 'vzb -> vza');
  });

  test('a VM reaches the provider on VLAN 100, tagged on the wire, both ways', async () => {
    const pcap = await ov.pcap('pv', 'p0', 'icmp or (vlan and icmp)', async () => {
      assert.ok(ping('vza', NET.vlan100), 'vza -> the provider on VLAN 100');
    }, () => ping('vza', NET.vlan100));
    // On the wire: vza's echo requests and the provider's replies, all in VLAN 100, nothing untagged.
    const rows = new Set(ov.lab.run('tshark', ['-n', '-r', pcap, '-Y', 'icmp', '-T', 'fields', '-E', 'separator=|',
      '-e', 'vlan.id', '-e', 'eth.src', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'icmp.type']).stdout.trim().split('\n'));
    assert.deepEqual([...rows].sort(), [
      `${VLAN}|${VMS[0]!.mac}|${VMS[0]!.ip}|${NET.vlan100}|8`,
      `${VLAN}|${macOf('pv', `vl${VLAN}`)}|${NET.vlan100}|${VMS[0]!.ip}|0`,
    ].sort());
    assert.ok(ping('pv', VMS[1]!.ip), 'the provider -> vzb');
    // The provider learned the VMs' MACs on its VLAN 100 interface by ARP.
    const n = JSON.parse(ov.lab.ip('pv', '-j', 'neigh', 'show', VMS[1]!.ip, 'dev', `vl${VLAN}`).stdout) as Array<{ lladdr?: string }>;
    assert.equal(n[0]?.lladdr, VMS[1]!.mac);
  });

  test('4 MiB of TCP at full size from the provider to a VM, byte for byte', async () => {
    const data = randomBytes(4 << 20);
    const src = join(ov.tmp, 'vni0-src.bin');
    const dst = join(ov.tmp, 'vni0-dst.bin');
    writeFileSync(src, data);
    const mtu = JSON.parse(ov.lab.ip('vza', '-j', 'link', 'show', 'vza').stdout) as Array<{ mtu: number }>;
    assert.equal(mtu[0]!.mtu, 1500, 'a VNI 0 vmnic has the full 1500: no encapsulation');
    const server: ChildProcess = ov.lab.spawnIn('pv', PY, ['-c', SEND_FILE, NET.vlan100, '5001', src]);
    try {
      let out = '';
      server.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
      await until(() => out.includes('ready'), 'the provider\'s server');
      const r = ov.lab.run(PY, ['-c', RECV_FILE, NET.vlan100, '5001', dst], { ns: 'vza', allowFail: true, timeoutMs: 120_000 });
      assert.equal(r.status, 0, r.stderr);
    } finally {
      server.kill('SIGKILL');
    }
    const got = ov.lab.run('sha256sum', [dst]).stdout.split(' ')[0];
    assert.equal(got, createHash('sha256').update(data).digest('hex'));
  });

  test('VLAN 200 and the untagged network stay out of reach', () => {
    assert.equal(ping('vza', NET.vlan200), false, 'VLAN 200 is another network');
    assert.equal(ping('vza', NET.untagged), false, 'the untagged network is another network');
    assert.ok(ping('vza', NET.vlan100), 'VLAN 100 still answers');
  });

  test("the node's own untagged traffic on up0 keeps working", () => {
    assert.ok(ping('cn1', NODE.pv), 'the node -> the provider, untagged');
    assert.ok(ping('pv', NODE.own), 'the provider -> the node, untagged');
    assert.ok(ping('vza', NET.vlan100), 'and the VMs still reach VLAN 100');
  });

  test('a link on the same interface serves the untagged network only', async () => {
    const link = vpcctl('link', 'create', '--ifname', 'up0');
    const nat = vpcctl('nat', 'create');
    const linkStats = () => (JSON.parse(vpcctl('link', 'get', link, '--json')) as { stats: Record<string, number> }).stats;
    try {
      vpcctl('nat', 'set-link', nat, link);
      vpcctl('nat', 'pool', 'add', nat, NAT_ON_VLAN);
      vpcctl('nat', 'pool', 'add', nat, NAT_UNTAGGED);
      const before = linkStats().arpReplies!;
      // Asked untagged (pv's own p0): answered with the link's MAC.
      ov.lab.run('ping', ['-n', '-c', '1', '-W', '1', NAT_UNTAGGED], { ns: 'pv', allowFail: true });
      const n = JSON.parse(ov.lab.ip('pv', '-j', 'neigh', 'show', NAT_UNTAGGED, 'dev', 'p0').stdout) as Array<{ lladdr?: string }>;
      assert.equal(n[0]?.lladdr, macOf('cn1', 'up0'));
      const afterUntagged = linkStats().arpReplies!;
      assert.ok(afterUntagged > before, 'the untagged request was answered');
      // Asked on VLAN 100 (pv's vl100): the same NAT, but not its network.
      ov.lab.run('ping', ['-n', '-c', '2', '-W', '1', NAT_ON_VLAN], { ns: 'pv', allowFail: true });
      assert.equal(linkStats().arpReplies, afterUntagged, 'no answer on VLAN 100');
      const v = JSON.parse(ov.lab.ip('pv', '-j', 'neigh', 'show', NAT_ON_VLAN).stdout) as Array<{ lladdr?: string }>;
      assert.equal(v[0]?.lladdr, undefined, JSON.stringify(v));
      // And the VMs' VLAN 100 traffic goes on beside the link.
      assert.ok(ping('vza', NET.vlan100), 'vza -> VLAN 100 with the link bound');
    } finally {
      vpcctl('nat', 'destroy', nat);
      vpcctl('link', 'destroy', link);
    }
  });

  test("the switch's counters: uplink traffic in both directions, no VXLAN-only drops", () => {
    const s = stats();
    assert.ok(s.txRemote! > 0 && s.rxRemote! > 0, JSON.stringify(s));
    assert.deepEqual([s.misses, s.upcalls, s.dropNoUplink, s.dropTagged], [0, 0, 0, 0], 'a VNI 0 switch never misses: the VLAN learns for itself');
  });
});
