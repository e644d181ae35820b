// SPDX-License-Identifier: BSD-2-Clause
/** The vcc: this compute node's VXLAN underlay endpoint. */
import {
  VPC_OP_VCC_GET, VPC_OP_VCC_GET_STATS, VPC_OP_VCC_SET, VPC_VCC_INET, VPC_VCC_INET6, VPC_VXLAN_PORT,
} from '../ffi/index.ts';
import { vccStatsFrom, type VccStats } from './counters.ts';
import { ipBytes, ipString, newId, VpcArgumentError, type Id } from './ids.ts';
import { ctlGet, ctlSet } from './kernel.ts';
import { openHandle, VpcObject, type OpenMode, type TxnOption } from './object.ts';

export interface VccConfig {
  /** The underlay IPv4 address VXLAN is sent from and received on. */
  ipv4?: string;
  ipv6?: string;
  /** UDP port (default 4789). */
  port?: number;
  /** Underlay MTU (default 1500): larger VXLAN packets are dropped, never fragmented. */
  mtu?: number;
  /** VNI 0 switches: the raw L2 device their uplink uses. */
  l2Interface?: string;
}

export class Vcc extends VpcObject {
  readonly type = 'vcc' as const;

  static create(id: Id = newId(), config?: VccConfig): Vcc {
    const vcc = new Vcc(openHandle(id, 'vcc', 'create'), id);
    try {
      if (config) vcc.configure(config);
    } catch (e) {
      vcc.close();
      throw e;
    }
    return vcc;
  }

  static open(id: Id, mode: OpenMode = 'open'): Vcc {
    return new Vcc(openHandle(id, 'vcc', mode), id);
  }

  /** Apply an underlay configuration (opens the sockets; EADDRNOTAVAIL etc. from the OS). */
  configure(c: VccConfig, opts: TxnOption = {}): void {
    let flags = 0;
    const v4 = c.ipv4 === undefined ? undefined : ipBytes(c.ipv4, 'ipv4');
    const v6 = c.ipv6 === undefined ? undefined : ipBytes(c.ipv6, 'ipv6');
    if (v4 && v4.af !== 4) throw new VpcArgumentError('ipv4', `ipv4: ${c.ipv4} is not an IPv4 address`);
    if (v6 && v6.af !== 6) throw new VpcArgumentError('ipv6', `ipv6: ${c.ipv6} is not an IPv6 address`);
    if (v4) flags |= VPC_VCC_INET;
    if (v6) flags |= VPC_VCC_INET6;
    if (flags === 0) throw new VpcArgumentError('ipv4', 'a vcc needs an IPv4 or IPv6 address');
    const port = c.port ?? VPC_VXLAN_PORT;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new VpcArgumentError('port', `port: expected a UDP port 1-65535, got ${String(port)}`);
    }
    const mtu = c.mtu ?? 0;
    if (!Number.isInteger(mtu) || (mtu !== 0 && (mtu < 576 || mtu > 65535))) {
      throw new VpcArgumentError('mtu', `mtu: expected 576-65535, got ${String(mtu)}`);
    }
    const l2 = new Array<number>(16).fill(0);
    if (c.l2Interface !== undefined) {
      if (!/^[A-Za-z0-9_.-]{1,15}$/.test(c.l2Interface)) {
        throw new VpcArgumentError('l2Interface', `l2Interface: expected an interface name, got '${c.l2Interface}'`);
      }
      for (let i = 0; i < c.l2Interface.length; i++) l2[i] = c.l2Interface.charCodeAt(i);
    }
    ctlSet(this.target('VPC_OP_VCC_SET'), VPC_OP_VCC_SET, {
      struct: 'vpc_vcc_t',
      value: {
        txn: opts.txn ?? 0, udp_port: port, flags, mtu,
        addr4: v4 ? v4.bytes.slice(0, 4) : [0, 0, 0, 0], addr6: v6 ? v6.bytes : new Array<number>(16).fill(0),
        l2_ifname: l2,
      },
    });
  }

  config(): VccConfig {
    const v = ctlGet(this.target('VPC_OP_VCC_GET'), VPC_OP_VCC_GET, 'vpc_vcc_t');
    const out: VccConfig = { port: v.udp_port };
    if (v.flags & VPC_VCC_INET) out.ipv4 = ipString(4, v.addr4);
    if (v.flags & VPC_VCC_INET6) out.ipv6 = ipString(6, v.addr6);
    if (v.mtu) out.mtu = v.mtu;
    const end = v.l2_ifname.indexOf(0);
    if (end !== 0) out.l2Interface = String.fromCharCode(...v.l2_ifname.slice(0, end < 0 ? 16 : end));
    return out;
  }

  stats(): VccStats {
    return vccStatsFrom(ctlGet(this.target('VPC_OP_VCC_GET_STATS'), VPC_OP_VCC_GET_STATS, 'vpc_vcc_stats_t').c);
  }
}
