// SPDX-License-Identifier: BSD-2-Clause
/** The vmnic: a VM's NIC, with one unicast MAC. */
import {
  VPC_NIC_MTU_AUTO, VPC_NIC_MTU_FORCE, VPC_NIC_MTU_MAX, VPC_NIC_MTU_MIN, VPC_OP_NIC_GET_IFNAME, VPC_OP_NIC_GET_MAC,
  VPC_OP_NIC_GET_MTU, VPC_OP_NIC_SET_IFNAME, VPC_OP_NIC_SET_MAC, VPC_OP_NIC_SET_MTU,
  VPC_NIC_ADDR_INET, VPC_NIC_ADDR_INET6, VPC_OP_NIC_GET_ADDR, VPC_OP_NIC_GET_DHCP, VPC_OP_NIC_SET_ADDR,
  VPC_OP_NIC_SET_DHCP,
} from '../ffi/index.ts';
import { dhcpDecode, dhcpEncode, type DhcpConfig, type DhcpOptions } from './dhcp.ts';
import { ipBytes, ipString, macBytes, macString, newId, VpcArgumentError, type Id } from './ids.ts';
import { ctlGet, ctlSet } from './kernel.ts';
import { openHandle, VpcObject, type OpenMode, type TxnOption } from './object.ts';

export interface NicOptions {
  mac?: string;
  /** The interface's name (host kernel: the TAP device; FreeBSD: the ifnet). */
  ifname?: string;
  /** Its MTU (1280-9000); default: what the underlay carries (see Nic.setMtu). */
  mtu?: number;
  /** Accept an MTU larger than the underlay carries (frames over it then get ICMP or are dropped). */
  forceMtu?: boolean;
  /** The VM's own addresses (see Nic.setAddresses). */
  addresses?: NicAddresses;
  /** Its DHCP service (see Nic.setDhcp). */
  dhcp?: DhcpOptions;
}

/**
 * The VM's own addresses.  The switch answers ARP/ND for them from this
 * node, and drops frames from the vmnic with another IP source.
 */
export interface NicAddresses {
  ipv4?: string;
  ipv6?: string;
}

function addrStruct(a: NicAddresses, txn: number) {
  const v = { txn, flags: 0, addr4: [0, 0, 0, 0], addr6: new Array<number>(16).fill(0) };
  if (a.ipv4 !== undefined) {
    const b = ipBytes(a.ipv4, 'ipv4');
    if (b.af !== 4) throw new VpcArgumentError('ipv4', `ipv4: expected an IPv4 address, got '${a.ipv4}'`);
    v.addr4 = b.bytes.slice(0, 4);
    v.flags |= VPC_NIC_ADDR_INET;
  }
  if (a.ipv6 !== undefined) {
    const b = ipBytes(a.ipv6, 'ipv6');
    if (b.af !== 6) throw new VpcArgumentError('ipv6', `ipv6: expected an IPv6 address, got '${a.ipv6}'`);
    v.addr6 = b.bytes;
    v.flags |= VPC_NIC_ADDR_INET6;
  }
  return v;
}

export interface MtuOptions extends TxnOption {
  /** Accept an MTU larger than the underlay carries now (otherwise EINVAL). */
  force?: boolean;
}

/** What NIC_GET_MTU says. */
export interface MtuInfo {
  /** The MTU in effect (the IP MTU: frames are up to 14 bytes longer). */
  mtu: number;
  /** Not set explicitly: follows the underlay (1500 when not behind a vcc). */
  isDefault: boolean;
  /** Set with force. */
  forced: boolean;
  /** The largest MTU the underlay behind it carries now; undefined when it is not behind a configured vcc. */
  fit?: number;
}

function mtuValue(mtu: number | 'default'): number {
  if (mtu === 'default') return 0;
  if (!Number.isInteger(mtu) || mtu < VPC_NIC_MTU_MIN || mtu > VPC_NIC_MTU_MAX) {
    throw new VpcArgumentError('mtu', `mtu: expected ${VPC_NIC_MTU_MIN}-${VPC_NIC_MTU_MAX} or 'default', got ${String(mtu)}`);
  }
  return mtu;
}

const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

function ifnameBytes(name: string): number[] {
  if (typeof name !== 'string' || !IFNAME_RE.test(name)) {
    throw new VpcArgumentError('ifname', `ifname: expected 1-15 characters of A-Z a-z 0-9 _ . -, got '${String(name)}'`);
  }
  const b = new Array<number>(16).fill(0);
  for (let i = 0; i < name.length; i++) b[i] = name.charCodeAt(i);
  return b;
}

export class Nic extends VpcObject {
  readonly type = 'vmnic' as const;

  /** Wrap a descriptor the kernel handed back (SW_ADD_PORT with a descriptor). */
  static fromHandle(handle: number, id: Id): Nic {
    return new Nic(handle, id);
  }

  /** Create a vmnic (a new id if none is given); EEXIST if the id is taken. */
  static create(id: Id = newId(), opts: NicOptions = {}): Nic {
    const mac = opts.mac === undefined ? undefined : macBytes(opts.mac);
    const ifname = opts.ifname === undefined ? undefined : ifnameBytes(opts.ifname);
    const mtu = opts.mtu === undefined ? undefined : mtuValue(opts.mtu);
    const addrs = opts.addresses === undefined ? undefined : addrStruct(opts.addresses, 0);
    const dhcp = opts.dhcp === undefined ? undefined : dhcpEncode(opts.dhcp, 0);
    const nic = new Nic(openHandle(id, 'vmnic', 'create'), id);
    try {
      if (ifname) nic.setIfnameBytes(ifname, {});
      if (mtu !== undefined) nic.setMtu(mtu, { force: opts.forceMtu ?? false });
      if (dhcp) ctlSet(nic.target('VPC_OP_NIC_SET_DHCP'), VPC_OP_NIC_SET_DHCP, { struct: 'vpc_nic_dhcp_t', value: dhcp });
      if (mac) nic.setMacBytes(mac, {});
      if (addrs) ctlSet(nic.target('VPC_OP_NIC_SET_ADDR'), VPC_OP_NIC_SET_ADDR, { struct: 'vpc_nic_addr_t', value: addrs });
    } catch (e) {
      nic.close();      // uncommitted: the half-made vmnic goes with it
      throw e;
    }
    return nic;
  }

  static open(id: Id, mode: OpenMode = 'open'): Nic {
    return new Nic(openHandle(id, 'vmnic', mode), id);
  }

  setMac(mac: string, opts: TxnOption = {}): void {
    this.setMacBytes(macBytes(mac), opts);
  }

  private setMacBytes(mac: number[], opts: TxnOption): void {
    ctlSet(this.target('VPC_OP_NIC_SET_MAC'), VPC_OP_NIC_SET_MAC,
      { struct: 'vpc_vmnic_t', value: { txn: opts.txn ?? 0, mac } });
  }

  setIfname(name: string, opts: TxnOption = {}): void {
    this.setIfnameBytes(ifnameBytes(name), opts);
  }

  private setIfnameBytes(name: number[], opts: TxnOption): void {
    ctlSet(this.target('VPC_OP_NIC_SET_IFNAME'), VPC_OP_NIC_SET_IFNAME,
      { struct: 'vpc_nic_ifname_t', value: { txn: opts.txn ?? 0, name } });
  }

  /** The interface's name ("" until it exists and none was set). */
  ifname(): string {
    const v = ctlGet(this.target('VPC_OP_NIC_GET_IFNAME'), VPC_OP_NIC_GET_IFNAME, 'vpc_nic_ifname_t');
    const end = v.name.indexOf(0);
    return String.fromCharCode(...v.name.slice(0, end < 0 ? 16 : end));
  }

  /**
   * Set the MTU, or go back to the default ('default'): what fits in one
   * underlay packet behind the uplink's vcc (its MTU less 50 bytes of VXLAN
   * over IPv4, 70 over IPv6), recomputed when the underlay changes.  More
   * than that is EINVAL unless forced.
   */
  setMtu(mtu: number | 'default', opts: MtuOptions = {}): void {
    ctlSet(this.target('VPC_OP_NIC_SET_MTU'), VPC_OP_NIC_SET_MTU, {
      struct: 'vpc_nic_mtu_t',
      value: { txn: opts.txn ?? 0, mtu: mtuValue(mtu), flags: opts.force ? VPC_NIC_MTU_FORCE : 0 },
    });
  }

  /** The MTU in effect. */
  mtu(): number {
    return this.mtuInfo().mtu;
  }

  mtuInfo(): MtuInfo {
    const v = ctlGet(this.target('VPC_OP_NIC_GET_MTU'), VPC_OP_NIC_GET_MTU, 'vpc_nic_mtu_t');
    const out: MtuInfo = { mtu: v.mtu, isDefault: (v.flags & VPC_NIC_MTU_AUTO) !== 0, forced: (v.flags & VPC_NIC_MTU_FORCE) !== 0 };
    if (v.fit !== 0) out.fit = v.fit;
    return out;
  }

  /**
   * The VM's own addresses (a family left out: none).  While the vmnic is
   * plugged into a switch they are its local neighbour entries: EADDRINUSE
   * when another vmnic of that switch has one of them.
   */
  setAddresses(a: NicAddresses, opts: TxnOption = {}): void {
    ctlSet(this.target('VPC_OP_NIC_SET_ADDR'), VPC_OP_NIC_SET_ADDR, { struct: 'vpc_nic_addr_t', value: addrStruct(a, opts.txn ?? 0) });
  }

  addresses(): NicAddresses {
    const v = ctlGet(this.target('VPC_OP_NIC_GET_ADDR'), VPC_OP_NIC_GET_ADDR, 'vpc_nic_addr_t');
    const out: NicAddresses = {};
    if (v.flags & VPC_NIC_ADDR_INET) out.ipv4 = ipString(4, v.addr4);
    if (v.flags & VPC_NIC_ADDR_INET6) out.ipv6 = ipString(6, v.addr6);
    return out;
  }

  /**
   * The vmnic's DHCPv4 service, replaced whole: the switch answers the VM's
   * DISCOVER/REQUEST/INFORM with the vmnic's IPv4 address (set with its
   * addresses), the switch's subnet mask and gateway (router and server
   * id), its MTU, and these options.  Nothing is answered while it is not
   * enabled, the vmnic has no IPv4 address, or its switch no IPv4 subnet.
   */
  setDhcp(o: DhcpOptions, opts: TxnOption = {}): void {
    ctlSet(this.target('VPC_OP_NIC_SET_DHCP'), VPC_OP_NIC_SET_DHCP,
      { struct: 'vpc_nic_dhcp_t', value: dhcpEncode(o, opts.txn ?? 0) });
  }

  /** The DHCP service as set (defaults filled in; disabled until set). */
  dhcp(): DhcpConfig {
    return dhcpDecode(ctlGet(this.target('VPC_OP_NIC_GET_DHCP'), VPC_OP_NIC_GET_DHCP, 'vpc_nic_dhcp_t'));
  }

  /** The MAC, or undefined while none is set. */
  mac(): string | undefined {
    const v = ctlGet(this.target('VPC_OP_NIC_GET_MAC'), VPC_OP_NIC_GET_MAC, 'vpc_vmnic_t');
    return v.mac.every((b) => b === 0) ? undefined : macString(v.mac);
  }
}
