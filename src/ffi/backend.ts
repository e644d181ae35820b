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
}
