#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Writes the fuzzers' seed corpora (kmod/tests/fuzz/corpus/<target>/): a handful of
well-formed inputs per target, so fuzzing starts past the front doors.
Re-run after changing an input format; the output is committed."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def mac(last):
    return bytes([2, 0, 0, 0, 0, last])


# fuzz_ctl: [op index, handle (0x80: exact sizes), keylen, vallen] + key.
# The index is the op's place in the core's op table (what abi_dump lists,
# in src/ffi/abi.generated.ts), not its number.
def op_index(name):
    import re
    with open(os.path.join(HERE, "..", "..", "..", "src", "ffi", "abi.generated.ts")) as f:
        names = re.findall(r"\{ op: \d+, name: ['\"](VPC_OP_[A-Z0-9_]+)['\"]", f.read())
    return names.index(name)


def rec(op, handle, key=b"", vallen=0):
    if isinstance(op, str):
        op = op_index(op)
    return bytes([op, handle]) + struct.pack("<HH", len(key), vallen) + key


write("ctl", "get-txn", rec("VPC_OP_GET_TXN", 0x80))
write("ctl", "add-vmnic-port", rec("VPC_OP_SW_ADD_PORT", 0x80, bytes(88)))
write("ctl", "list-all", rec("VPC_OP_SYS_LIST", 0xff, bytes(16), 4096))
write("ctl", "nic-set-mtu", rec("VPC_OP_NIC_SET_MTU", 0x80, struct.pack("<iIII", 0, 1400, 0, 0)))
write("ctl", "nic-set-mtu-force", rec("VPC_OP_NIC_SET_MTU", 0x80, struct.pack("<iIII", 0, 9000, 1, 0)))
write("ctl", "open-then-close", rec(0xf2, 0x01, bytes(16)) + bytes([0xf8, 0, 0, 0, 0, 0]))
write("ctl", "e2big", bytes([2, 0, 0, 0xff, 0, 0]))
# A router (vpc_open CREATE of type 4), then its route ops on the handles there
# are (the new one is the last): a drop route, a replace, a lookup, a dump.
rtr_open = bytes([0xf2, 0x01]) + struct.pack("<HH", 16, 4) + bytes([0xf1] + [0] * 14 + [9])
drop_route = struct.pack("<iBBBB", 0, 4, 16, 4, 0) + bytes([172, 16]) + bytes(14 + 16 + 16 + 8 + 8)
write("ctl", "router-routes", rtr_open + b"".join(
    rec("VPC_OP_RTR_ROUTE_SET", 0x80 | h, drop_route) + rec("VPC_OP_RTR_ROUTE_REPLACE", 0x80 | h, drop_route)
    + rec("VPC_OP_RTR_ROUTE_LOOKUP", 0x80 | h, bytes(72)) + rec("VPC_OP_RTR_ROUTE_DUMP", 0x80 | h, bytes(16), 720)
    for h in range(6)))
# The staged replace on the same handles: begin (token 1 on a new router), a
# batch naming it (the first route's serial), commit.
staged_route = drop_route[:64] + struct.pack("<Q", 1)
stage_token = lambda tok: struct.pack("<iIQ", 0, 0, tok)
write("ctl", "router-stage", rtr_open + b"".join(
    rec("VPC_OP_RTR_STAGE_BEGIN", 0x80 | h, stage_token(0), 16)
    + rec("VPC_OP_RTR_STAGE_APPEND", 0x80 | h, staged_route, 16)
    + rec("VPC_OP_RTR_STAGE_COMMIT", 0x80 | h, stage_token(1))
    for h in range(6)))

# A NAT and a link (vpc_open CREATE of types 5 and 6), then their ops on the
# handles there are: bind the link, configure the NAT, set its link, add a
# pool, an SNAT binding (refused: no router), dump flows, read counters.
nat_open = bytes([0xf2, 0x01]) + struct.pack("<HH", 16, 5) + bytes([0xf2] + [0] * 14 + [5])
link_open = bytes([0xf2, 0x01]) + struct.pack("<HH", 16, 6) + bytes([0xf3] + [0] * 14 + [6])
link_key = struct.pack("<iB3x", 0, 0) + b"up0" + bytes(13) + bytes(16)
nat_cfg = struct.pack("<i6I", 0, 64, 0, 0, 0, 30, 0) + bytes([2, 0x99, 0, 0, 0, 1]) + bytes(6) + bytes(8)
pool_key = struct.pack("<i", 0) + bytes([203, 0, 113, 20]) + struct.pack("<HHH2x", 2000, 2063, 16)
snat_key = struct.pack("<i", 0) + bytes([10, 0, 0, 5, 203, 0, 113, 20]) + bytes(44)
write("ctl", "nat-link", nat_open + link_open + b"".join(
    rec("VPC_OP_LINK_SET", 0x80 | h, link_key) + rec("VPC_OP_NAT_SET_CONFIG", 0x80 | h, nat_cfg)
    + rec("VPC_OP_NAT_POOL_ADD", 0x80 | h, pool_key) + rec("VPC_OP_NAT_SNAT_BIND", 0x80 | h, snat_key)
    + rec("VPC_OP_NAT_FLOW_DUMP", 0x80 | h, bytes(20), 32 * 8) + rec("VPC_OP_NAT_GET_STATS", 0x80 | h, b"", 256)
    for h in range(8)))

# fuzz_frames: [entry point (0x80: real source MAC)] + frame
eth = lambda dst, et: dst + mac(0x0a) + struct.pack(">H", et)
ipv4 = lambda dst: bytes([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 10]) + bytes(dst)
write("frames", "arp-broadcast", bytes([0x80]) + eth(b"\xff" * 6, 0x0806) + bytes(28))
write("frames", "to-local", bytes([0x80]) + eth(mac(0x0b), 0x0800) + ipv4([10, 0, 0, 11]))
write("frames", "to-remote", bytes([0x80]) + eth(mac(0x42), 0x0800) + ipv4([10, 0, 0, 66]))
write("frames", "off-subnet", bytes([0x80]) + eth(mac(0x01), 0x0800) + ipv4([8, 8, 8, 8]))
write("frames", "miss", bytes([0x80]) + eth(mac(0x77), 0x86DD) + bytes(40))
write("frames", "vxlan-in", bytes([3, 0x08, 0, 0, 0, 0, 0, 100, 0]) + eth(mac(0x0a), 0x0800) + ipv4([10, 0, 0, 10]))



def cksum(b):
    s = sum((b[i] << 8 | b[i + 1]) for i in range(0, len(b) - 1, 2)) + (b[-1] << 8 if len(b) % 2 else 0)
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_big(total, df=True, proto=17):
    h = bytearray([0x45, 0, total >> 8, total & 0xFF, 0, 1, 0x40 if df else 0, 0, 64, proto, 0, 0, 10, 0, 0, 10, 10, 0, 0, 66])
    h[10:12] = cksum(bytes(h)).to_bytes(2, "big")
    return bytes(h) + bytes(i % 256 for i in range(total - 20))


def ipv6_big(plen, nh=17):
    src = bytes([0xFD] + [0] * 14 + [10])
    dst = bytes([0xFD] + [0] * 14 + [66])
    return bytes([0x60, 0, 0, 0]) + plen.to_bytes(2, "big") + bytes([nh, 64]) + src + dst + bytes(i % 256 for i in range(plen))


# Too big for the 1500 underlay (1450 fits): ICMP, ICMPv6, and no answer.
write("frames", "too-big-df", bytes([0x80]) + eth(mac(0x42), 0x0800) + ipv4_big(1500))
write("frames", "too-big-no-df", bytes([0x80]) + eth(mac(0x42), 0x0800) + ipv4_big(1500, df=False))
write("frames", "too-big-v6", bytes([0x80]) + eth(mac(0x42), 0x86DD) + ipv6_big(1460))
# From the underlay: over the vmnic's MTU; a local vmnic's source MAC.
vx = bytes([3, 0x08, 0, 0, 0, 0, 0, 100, 0])
write("frames", "vxlan-over-mtu", vx + mac(0x0A) + mac(0x42) + b"\x88\xb5" + bytes(1600))
write("frames", "vxlan-local-source", vx + mac(0x0A) + mac(0x0B) + b"\x88\xb5" + bytes(50))
write("frames", "l2-in-vlan7", bytes([4]) + mac(0x0c) + mac(0x99) + b"\x81\x00\x00\x07\x08\x00" + bytes(46))

# ARP and ND from vmnic A (02:..:0a, 10.0.0.10): for the learned neighbour
# (10.0.0.7 / 2001:db8::7), for B (a local one), the gateway, and a miss.
def arp(tpa, spa=(10, 0, 0, 10), op=1):
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + mac(0x0A) + bytes(spa) + bytes(6) + bytes(tpa) + bytes(18)


def ns(target_last, src_last=0x0A):
    src = bytes([0x20, 0x01, 0x0D, 0xB8] + [0] * 11 + [src_last])
    target = bytes([0x20, 0x01, 0x0D, 0xB8] + [0] * 11 + [target_last])
    dst = bytes([0xFF, 0x02] + [0] * 9 + [1, 0xFF]) + target[13:]
    icmp = bytearray([135, 0, 0, 0, 0, 0, 0, 0]) + target + bytes([1, 1]) + mac(0x0A)
    pseudo = src + dst + len(icmp).to_bytes(4, "big") + bytes([0, 0, 0, 58])
    icmp[2:4] = cksum(pseudo + bytes(icmp)).to_bytes(2, "big")
    return bytes([0x60, 0, 0, 0]) + len(icmp).to_bytes(2, "big") + bytes([58, 255]) + src + dst + bytes(icmp)


write("frames", "arp-found", bytes([0x80]) + eth(b"\xff" * 6, 0x0806) + arp((10, 0, 0, 7)))
write("frames", "arp-local", bytes([0x80]) + eth(b"\xff" * 6, 0x0806) + arp((10, 0, 0, 11)))
write("frames", "arp-miss", bytes([0x80]) + eth(b"\xff" * 6, 0x0806) + arp((10, 0, 0, 99)))
write("frames", "arp-gateway", bytes([0x80]) + eth(b"\xff" * 6, 0x0806) + arp((10, 0, 0, 1)))
write("frames", "ns-found", bytes([0x80]) + eth(bytes([0x33, 0x33, 0xFF, 0, 0, 7]), 0x86DD) + ns(7))
write("frames", "ns-local", bytes([0x80]) + eth(bytes([0x33, 0x33, 0xFF, 0, 0, 0x0B]), 0x86DD) + ns(0x0B))
write("frames", "ns-miss", bytes([0x80]) + eth(bytes([0x33, 0x33, 0xFF, 0, 0, 0x63]), 0x86DD) + ns(0x63))


# DHCP and router solicitations from the first vmnic (10.0.0.10, fd00::10,
# DHCP enabled; the switch's gateways 10.0.0.1 and fd00::1): the UDP
# checksum is 0 (none), so mutations reach the options.
def dhcp(mtype, opts=b"", ciaddr=bytes(4), flags=0, src=bytes(4), dst=b"\xff" * 4, file=bytes(128)):
    chaddr = mac(0x0a) + bytes(10)
    bootp = (bytes([1, 1, 6, 0]) + b"\x12\x34\x56\x78" + struct.pack(">HH", 0, flags) + ciaddr + bytes(12) +
             chaddr + bytes(64) + file + b"\x63\x82\x53\x63" + bytes([53, 1, mtype]) + opts + b"\xff")
    udp = struct.pack(">HHHH", 68, 67, 8 + len(bootp), 0) + bootp
    h = bytearray([0x45, 0, (20 + len(udp)) >> 8, (20 + len(udp)) & 0xFF, 0, 0, 0, 0, 64, 17, 0, 0]) + src + dst
    h[10:12] = cksum(bytes(h)).to_bytes(2, "big")
    return bytes([0x80]) + eth(b"\xff" * 6, 0x0800) + bytes(h) + udp


gw4 = bytes([10, 0, 0, 1])
me4 = bytes([10, 0, 0, 10])
write("frames", "dhcp-discover", dhcp(1, bytes([55, 4, 1, 3, 6, 121])))
write("frames", "dhcp-request-selecting", dhcp(3, bytes([50, 4]) + me4 + bytes([54, 4]) + gw4))
write("frames", "dhcp-request-init-reboot", dhcp(3, bytes([50, 4]) + me4, flags=0x8000))
write("frames", "dhcp-request-renewing", dhcp(3, ciaddr=me4, src=me4, dst=gw4))
write("frames", "dhcp-inform", dhcp(8, ciaddr=me4, src=me4, dst=gw4))
write("frames", "dhcp-decline", dhcp(4, bytes([50, 4]) + me4 + bytes([54, 4]) + gw4))
write("frames", "dhcp-release", dhcp(7, bytes([54, 4]) + gw4, ciaddr=me4, src=me4, dst=gw4))
write("frames", "dhcp-overload", dhcp(1, bytes([52, 1, 1]), file=bytes([12, 3]) + b"abc\xff" + bytes(123)))


def icmp6(src, dst, body, hlim=255):
    pseudo = src + dst + struct.pack(">IxxxB", len(body), 58)
    body = bytearray(body)
    body[2:4] = cksum(pseudo + bytes(body)).to_bytes(2, "big")
    return bytes([0x60, 0, 0, 0]) + len(body).to_bytes(2, "big") + bytes([58, hlim]) + src + dst + bytes(body)


ll = bytes([0xfe, 0x80] + [0] * 13 + [0x0a])
allr = bytes([0xff, 2] + [0] * 13 + [2])
alln = bytes([0xff, 2] + [0] * 13 + [1])
write("frames", "rs", bytes([0x80]) + eth(b"\x33\x33\x00\x00\x00\x02", 0x86DD) +
      icmp6(ll, allr, bytes([133, 0, 0, 0, 0, 0, 0, 0, 1, 1]) + mac(0x0a)))
write("frames", "rs-unspecified", bytes([0x80]) + eth(b"\x33\x33\x00\x00\x00\x02", 0x86DD) +
      icmp6(bytes(16), allr, bytes([133, 0, 0, 0, 0, 0, 0, 0])))
write("frames", "ra-from-vm", bytes([0x80]) + eth(b"\x33\x33\x00\x00\x00\x01", 0x86DD) +
      icmp6(ll, alln, bytes([134, 0, 0, 0, 64, 0, 7, 8]) + bytes(8) + bytes([1, 1]) + mac(0x0a)))

# fuzz_answers: 56-byte answers; an odd first byte aims at a pending request
def ans(target, status, af, addr, ttl=0):
    a = struct.pack("<QQIIBBH4s16sQ", 0, 0, status, ttl, af, 0, 0, bytes(4), addr, 7)
    return bytes([1, target]) + a[2:]


v4 = bytes([198, 51, 100, 2]) + bytes(12)
write("answers", "found", ans(0, 0, 4, v4, 60000))
write("answers", "not-found", ans(3, 1, 0, bytes(16)))
write("answers", "batch", b"".join(ans(i, i % 2, 4 if i % 2 == 0 else 0, v4 if i % 2 == 0 else bytes(16)) for i in range(8)))

# fuzz_wire: struct vpc_wire_req (64 bytes) + key; last byte picks the handle
def req(kind, op=0, key=b"", vallen=0, idb=bytes(16), typ=0, flags=0):
    return struct.pack("<IHHII QQ16sQQ", 0x31435056, kind, 0, op, 0, len(key), vallen, idb, typ, flags) + key


write("wire", "open-switch", req(1, idb=bytes([0xf0]) + bytes(14) + b"\x09", typ=0x201, flags=2))
write("wire", "ctl-get-txn", req(2, op=1, vallen=4) + b"\x00")
write("wire", "ctl-add-port", req(2, op=17, key=bytes(32) + struct.pack("<Q", 8) + bytes(48), vallen=88) + b"\x00")

# fuzz_nat: records [flags (1: inbound, 2: Ethernet header), clock step (8 s),
# length (2 bytes)] + IPv4 packet.  EIP 10.0.0.5 <-> 203.0.113.10; SNAT for
# 10.0.0.6 and 10.0.0.7 on 198.51.100.1 (ports 1024-1035, blocks of 4).
def ip4(src, dst, proto, l4, frag=0x4000):
    h = bytearray([0x45, 0, 0, 0, 0, 1, frag >> 8, frag & 0xFF, 64, proto, 0, 0]) + bytes(src) + bytes(dst)
    h[2:4] = (20 + len(l4)).to_bytes(2, "big")
    h[10:12] = cksum(bytes(h)).to_bytes(2, "big")
    return bytes(h), l4


def l4sum(src, dst, proto, l4, at):
    ph = bytes(src) + bytes(dst) + bytes([0, proto]) + len(l4).to_bytes(2, "big") if proto != 1 else b""
    b = bytearray(l4)
    b[at:at + 2] = b"\0\0"
    s = cksum(ph + bytes(b))
    if proto == 17 and s == 0:
        s = 0xFFFF
    b[at:at + 2] = s.to_bytes(2, "big")
    return bytes(b)


def pkt(src, dst, proto, l4, frag=0x4000):
    at = {6: 16, 17: 6, 1: 2}.get(proto)
    if at is not None and len(l4) >= at + 2:
        l4 = l4sum(src, dst, proto, l4, at)
    h, l4 = ip4(src, dst, proto, l4, frag)
    return h + l4


def tcp(sp, dp, flags):
    return struct.pack(">HHIIBBHHH", sp, dp, 1, 0, 0x50, flags, 65535, 0, 0) + b"data!"


def udp(sp, dp, body=b"hello"):
    return struct.pack(">HHHH", sp, dp, 8 + len(body), 0) + body


def echo(t, ident):
    return struct.pack(">BBHHH", t, 0, 0, ident, 1) + b"ping" * 3


def rec(flags, step, p):
    return bytes([flags, step]) + len(p).to_bytes(2, "big") + p


A, B, E, S, R, RTR = [10, 0, 0, 5], [10, 0, 0, 6], [203, 0, 113, 10], [198, 51, 100, 1], [192, 0, 2, 80], [192, 0, 2, 254]
out_udp = pkt(B, R, 17, udp(5000, 53))
write("nat", "eip-out-tcp", rec(0, 0, pkt(A, R, 6, tcp(1000, 80, 2))))
write("nat", "eip-in-udp", rec(1, 0, pkt(R, E, 17, udp(53, 5000))))
write("nat", "snat-udp-reply", rec(0, 0, out_udp) + rec(1, 0, pkt(R, S, 17, udp(53, 1024))))
write("nat", "snat-echo", rec(0, 0, pkt(B, R, 1, echo(8, 7))) + rec(1, 0, pkt(R, S, 1, echo(0, 1024))))
write("nat", "snat-tcp-expire", rec(0, 0, pkt(B, R, 6, tcp(1000, 80, 2))) + rec(1, 40, pkt(R, S, 6, tcp(80, 1024, 0x12))))
write("nat", "snat-exhaust", b"".join(rec(2 if i % 2 else 0, 0, (bytes(14) if i % 2 else b"") + pkt(B, R, 6, tcp(2000 + i, 80, 2))) for i in range(6)))
# Time exceeded from a router about the translated UDP datagram (as it left:
# 198.51.100.1:1024 -> 192.0.2.80:53), and a VM's port unreachable going out.
quoted = pkt(S, R, 17, udp(1024, 53))
write("nat", "snat-icmp-error-in", rec(0, 0, out_udp) + rec(1, 0, pkt(RTR, S, 1, struct.pack(">BBHI", 11, 0, 0, 0) + quoted)))
write("nat", "eip-icmp-error-in", rec(1, 0, pkt(RTR, E, 1, struct.pack(">BBHHH", 3, 4, 0, 0, 1400) + pkt(E, R, 6, tcp(22, 443, 0x18)))))
write("nat", "eip-icmp-error-out", rec(0, 0, pkt(A, R, 1, struct.pack(">BBHI", 3, 3, 0, 0) + pkt(R, A, 17, udp(53, 9)))))
write("nat", "no-config", rec(0, 0, pkt([10, 0, 0, 99], R, 17, udp(1, 2))))
write("nat", "fragment", rec(0, 0, pkt(B, R, 17, udp(5000, 53), frag=0x2000)) + rec(0, 0, pkt(A, R, 17, b"later fragment", frag=0x0003)))

# fuzz_vnet: reads of a TAP, split at b"VNET"; each is [tap] + virtio-net
# header (flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, little
# endian) + frame.  A TSO frame over IPv4 and one over IPv6 (cut, then merged
# again), a UDP datagram whose checksum is left to us, and a plain frame.
def vnet_hdr(flags, gso, hdr_len, gso_size, start, off):
    return struct.pack("<BBHHHH", flags, gso, hdr_len, gso_size, start, off)


def tso_frame(v6, plen, mss):
    tcp_h = struct.pack(">HHIIBBHHH", 40000, 80, 1000, 77, 5 << 4, 0x18, 501, 0, 0)
    body = bytes((i * 7) & 0xff for i in range(plen))
    if v6:
        ip = struct.pack(">IHBB", 6 << 28, 20 + plen, 6, 64) + bytes(15) + b"\x01" + bytes(15) + b"\x02"
        eth = mac(1) + mac(2) + b"\x86\xdd"
        l4 = 54
    else:
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + 20 + plen, 0x1234, 0x4000, 64, 6, 0,
                         bytes([10, 9, 0, 1]), bytes([10, 9, 0, 2]))
        eth = mac(1) + mac(2) + b"\x08\x00"
        l4 = 34
    return vnet_hdr(1, 4 if v6 else 1, l4 + 20, mss, l4, 16) + eth + ip + tcp_h + body


udp_frame = mac(1) + mac(2) + b"\x08\x00" + struct.pack(">BBHHHBBH4s4s", 0x45, 0, 28 + 40, 1, 0, 64, 17, 0,
                                                       bytes([10, 9, 0, 1]), bytes([10, 9, 0, 2])) + \
    struct.pack(">HHHH", 5000, 53, 48, 0) + bytes(40)
write("vnet", "tso-v4", b"\x00" + tso_frame(False, 5000, 1400))
write("vnet", "tso-v6", b"\x01" + tso_frame(True, 3000, 1000))
write("vnet", "udp-csum", b"\x00" + vnet_hdr(1, 0, 0, 0, 34, 6) + udp_frame)
write("vnet", "two-reads", b"\x02" + tso_frame(False, 2800, 1400) + b"VNET" + b"\x02" + vnet_hdr(0, 0, 0, 0, 0, 0) + udp_frame)
