// SPDX-License-Identifier: BSD-2-Clause
/** Forwarding entries (CAM) between the ABI and plain objects. */
import {
  VPC_CAM_F_USED, VPC_CAM_LOCAL, VPC_CAM_NEGATIVE, VPC_CAM_REMOTE, VPC_CAM_TTL_MAX_MS, type StructValues,
} from '../ffi/index.ts';
import { idFromBytes, ipBytes, ipString, isNilId, macBytes, macString, VpcArgumentError, type Id } from './ids.ts';

export type CamKind = 'local' | 'remote' | 'negative';

/** What a caller installs: a remote MAC behind a VTEP, or a known absence. */
export interface CamSpec {
  dst: string;
  /** Only frames from this source (default: any). */
  src?: string;
  kind?: 'remote' | 'negative';
  /** remote: the VTEP's underlay address. */
  vtep?: string;
  /** remote: the VTEP's UDP port (default 4789). */
  port?: number;
  /** 0: static. */
  ttlMs?: number;
  /** The directory revision the mapping came from: older ones lose. */
  revision?: number;
}

export interface CamEntry {
  dst: string;
  src: string | undefined;
  kind: CamKind;
  vtep: string | undefined;
  port: number | undefined;
  /** Milliseconds left; 0 for static entries. */
  ttlMs: number;
  vni: number;
  localPort: Id | undefined;
  generation: number;
  revision: number;
  /** A frame used the entry since it was set. */
  used: boolean;
}

const kinds: Record<number, CamKind> = {
  [VPC_CAM_LOCAL]: 'local', [VPC_CAM_REMOTE]: 'remote', [VPC_CAM_NEGATIVE]: 'negative',
};
const zero6 = [0, 0, 0, 0, 0, 0];

export function camStruct(spec: CamSpec): Partial<StructValues['vpc_sw_cam_t']> {
  const kind = spec.kind ?? 'remote';
  if (kind !== 'remote' && kind !== 'negative') {
    throw new VpcArgumentError('kind', `kind: expected remote or negative, got '${String(kind)}'`);
  }
  const ttl = spec.ttlMs ?? 0;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > VPC_CAM_TTL_MAX_MS) {
    throw new VpcArgumentError('ttl', `ttl: expected whole milliseconds 0-${VPC_CAM_TTL_MAX_MS}, got ${String(ttl)}`);
  }
  const out: Partial<StructValues['vpc_sw_cam_t']> = {
    dstmac: macBytes(spec.dst, 'dst'),
    srcmac: spec.src === undefined ? zero6 : macBytes(spec.src, 'src'),
    kind: kind === 'remote' ? VPC_CAM_REMOTE : VPC_CAM_NEGATIVE,
    ttl_ms: ttl,
    revision: spec.revision ?? 0,
  };
  if (kind === 'remote') {
    if (spec.vtep === undefined) throw new VpcArgumentError('vtep', 'vtep: a remote entry needs the VTEP address');
    const ip = ipBytes(spec.vtep, 'vtep');
    out.af = ip.af;
    out.addr = ip.bytes;
    const port = spec.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new VpcArgumentError('port', `port: expected a UDP port 1-65535, got ${String(port)}`);
    }
    out.udp_port = port;
  }
  return out;
}

export function camEntryFrom(v: StructValues['vpc_sw_cam_t']): CamEntry {
  const remote = v.kind === VPC_CAM_REMOTE;
  return {
    dst: macString(v.dstmac),
    src: v.srcmac.every((b) => b === 0) ? undefined : macString(v.srcmac),
    kind: kinds[v.kind] ?? 'remote',
    vtep: remote ? ipString(v.af, v.addr) : undefined,
    port: remote ? v.udp_port : undefined,
    ttlMs: v.ttl_ms,
    vni: v.vni,
    localPort: isNilId(v.port_id) ? undefined : idFromBytes(v.port_id),
    generation: v.generation,
    revision: v.revision,
    used: (v.flags & VPC_CAM_F_USED) !== 0,
  };
}
