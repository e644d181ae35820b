// SPDX-License-Identifier: BSD-2-Clause
/**
 * The two entry points of the ABI as a backend offers them to TypeScript.
 * Implementations: host.ts (libvpc.so talking to vpc-hostd) and freebsd.ts
 * (the module's syscalls).  Calls are synchronous: control-plane ops are
 * short, and koffi cannot call a variadic function asynchronously.
 */
export interface CtlResult {
  /** 0 on success, else the errno the call failed with. */
  errno: number;
  /** Bytes written into the value buffer (or needed, with ERANGE). */
  vallen: number;
}

import type { UpcallChannel } from './upcall-channel.ts';

export interface Backend {
  readonly kind: 'host' | 'freebsd';
  /** Human-readable description of where calls go (socket path, module). */
  readonly where: string;
  /** vpc_open(): a handle >= 0, or a negative errno. */
  open(id: Uint8Array, typeWord: number, flags: number): number;
  /** vpc_ctl() with the value buffer sized by the caller (val may be null). */
  ctl(handle: number, op: number, key: Uint8Array | null, val: Uint8Array | null): CtlResult;
  /** close(2) a handle; returns 0 or an errno. */
  close(handle: number): number;
  /** Attach as the upcall reader (rejects with code EBUSY if one is). */
  openUpcalls(): Promise<UpcallChannel>;
  /** libvpc's upcall relay (host kernel only; vpc.h, vpc_relay_start), bound on first use. */
  readonly relay?: UpcallRelay | undefined;
}

/**
 * A thread of libvpc's that reads the upcall channel for this process and
 * answers, without waiting for JavaScript, the leading L2 requests its
 * table knows; batches then say how many it answered (UpcallChannel).
 */
export interface UpcallRelay {
  /** Attach as the upcall reader through the relay; its answers carry ttlMs. */
  open(ttlMs: number): Promise<UpcallChannel>;
  /** Apply n packed vpc_relay_entry_t: 0 or an errno. */
  update(entries: Uint8Array, n: number): number;
  /** The table anew from a directory's records (vpc.h, vpc_relay_load): 0 or an errno. */
  load(words: Uint32Array, n: number, stride: number, vteps: Uint8Array, nvteps: number, revs: Float64Array | null, revision: number): number;
  /** Stop answering (everything is passed on unanswered), or answer again. */
  pause(paused: boolean): void;
}
