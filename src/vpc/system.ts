// SPDX-License-Identifier: BSD-2-Clause
/** Questions about the whole kernel: what exists, how much, is it there. */
import {
  backend, encode, VPC_OP_NOP, VPC_OP_SW_CAM_FLUSH, VPC_OP_SYS_CHECK, VPC_OP_SYS_LIST, VPC_OP_SYS_STATS,
  VPC_VNI_ANY,
} from '../ffi/index.ts';
import { ctlGet, ctlList, ctlRaw, ctlSet, SYSTEM } from './kernel.ts';
import { checkVni } from './validate.ts';
import { objectInfoFrom, typeNames, typeNumbers, type ObjectInfo, type ObjectType } from './object.ts';

export interface SystemStats {
  objects: number;
  handles: number;
  byType: Partial<Record<ObjectType, number>>;
  memBytes: number;
  memAllocs: number;
  /** Host kernel: connections refused at its descriptor limit (FreeBSD: 0). */
  connRefused: number;
}

/** Every object (or those of one type) in creation order: what a restarted orchestrator finds. */
export function listObjects(type?: ObjectType): ObjectInfo[] {
  const objType = type === undefined ? 0 : typeNumbers[type];
  return ctlList(SYSTEM, VPC_OP_SYS_LIST, 'vpc_obj_info_t',
    (marker) => encode('vpc_list_req_t', { obj_type: objType, marker }), (v) => v.serial).map(objectInfoFrom);
}

export function systemStats(): SystemStats {
  const v = ctlGet(SYSTEM, VPC_OP_SYS_STATS, 'vpc_sys_stats_t');
  const byType: Partial<Record<ObjectType, number>> = {};
  v.by_type.forEach((n, i) => {
    const name = typeNames[i];
    if (name !== undefined) byType[name] = n;
  });
  return { objects: v.objects, handles: v.handles, byType, memBytes: v.mem_bytes, memAllocs: v.mem_allocs, connRefused: v.conn_refused };
}

/** Throws VpcUnavailableError when no kernel answers. */
export function ping(): void {
  ctlSet(SYSTEM, VPC_OP_NOP, null);
}

/** Where calls go: the host kernel's socket, or the module's syscalls. */
export function kernelDescription(): string {
  const b = backend();
  return `${b.kind} (${b.where})`;
}

/** Flush the forwarding entries of every switch carrying vni (all switches if omitted). */
export function camFlushVni(vni?: number): number {
  const buf = ctlRaw(SYSTEM, VPC_OP_SW_CAM_FLUSH,
    { struct: 'vpc_cam_flush_t', value: { vni: vni === undefined ? VPC_VNI_ANY : checkVni(vni), flags: 0 } }, 8);
  return Number(buf.readBigUInt64LE(0));
}

/** The kernel's invariant checker: null when everything holds, else the first failure. */
export function checkInvariants(): { ok: boolean; checks: number; why: string | undefined } {
  const v = ctlGet(SYSTEM, VPC_OP_SYS_CHECK, 'vpc_check_result_t');
  const end = v.why.indexOf(0);
  const why = String.fromCharCode(...v.why.slice(0, end < 0 ? v.why.length : end));
  return { ok: v.result === 0, checks: v.checks, why: v.result === 0 ? undefined : why };
}
