// SPDX-License-Identifier: BSD-2-Clause
/**
 * vpclink: an Ethernet interface of the node, bound by name; the outside of
 * a NAT (docs/nat.md).  Host kernel: an AF_PACKET socket on an interface of
 * vpc-hostd's namespace; FreeBSD: bind() answers EOPNOTSUPP for now.
 */
import {
  LINK_STATS, VPC_OP_LINK_GET, VPC_OP_LINK_GET_STATS, VPC_OP_LINK_SET, type LinkStats,
} from '../ffi/index.ts';
import { macString, newId, VpcArgumentError, type Id } from './ids.ts';
import { ctlGet, ctlSet } from './kernel.ts';
import { openHandle, VpcObject, type OpenMode, type TxnOption } from './object.ts';

export type { LinkStats } from '../ffi/index.ts';

export interface LinkInfo {
  /** The interface's name; undefined: not bound. */
  ifname: string | undefined;
  /** The interface's MAC (the link's), when bound. */
  mac: string | undefined;
  /** NATs using it (0 or 1). */
  users: number;
}

const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

function nameBytes(name: string): number[] {
  if (typeof name !== 'string' || (name !== '' && !IFNAME_RE.test(name))) {
    throw new VpcArgumentError('ifname', `ifname: expected 1-15 characters of A-Z a-z 0-9 _ . -, got '${String(name)}'`);
  }
  const b = new Array<number>(16).fill(0);
  for (let i = 0; i < name.length; i++) b[i] = name.charCodeAt(i);
  return b;
}

export class Link extends VpcObject {
  readonly type = 'link' as const;

  static create(id: Id = newId()): Link {
    return new Link(openHandle(id, 'link', 'create'), id);
  }

  static open(id: Id, mode: OpenMode = 'open'): Link {
    return new Link(openHandle(id, 'link', mode), id);
  }

  /**
   * Bind the interface ifname.  ENODEV: no such interface; EBUSY: another
   * link has it; EALREADY: this link is bound already (unbind first).
   */
  bind(ifname: string, opts: TxnOption = {}): void {
    if (ifname === '') throw new VpcArgumentError('ifname', 'ifname: empty (use unbind())');
    ctlSet(this.target('VPC_OP_LINK_SET'), VPC_OP_LINK_SET,
      { struct: 'vpc_link_t', value: { txn: opts.txn ?? 0, ifname: nameBytes(ifname) } });
  }

  /** Let go of the interface (nothing bound: nothing happens). */
  unbind(opts: TxnOption = {}): void {
    ctlSet(this.target('VPC_OP_LINK_SET'), VPC_OP_LINK_SET,
      { struct: 'vpc_link_t', value: { txn: opts.txn ?? 0, ifname: nameBytes('') } });
  }

  get(): LinkInfo {
    const v = ctlGet(this.target('VPC_OP_LINK_GET'), VPC_OP_LINK_GET, 'vpc_link_t');
    const end = v.ifname.indexOf(0);
    const name = String.fromCharCode(...v.ifname.slice(0, end < 0 ? 16 : end));
    return {
      ifname: v.bound ? name : undefined,
      mac: v.bound ? macString(v.mac) : undefined,
      users: v.users,
    };
  }

  stats(): LinkStats {
    const c = ctlGet(this.target('VPC_OP_LINK_GET_STATS'), VPC_OP_LINK_GET_STATS, 'vpc_link_stats_t').c;
    const out = {} as Record<keyof LinkStats, number>;
    LINK_STATS.forEach((name, i) => { if (name !== null) out[name] = c[i] ?? 0; });
    return out as LinkStats;
  }
}
