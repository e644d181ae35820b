// SPDX-License-Identifier: BSD-2-Clause
/**
 * src/ffi: the only place in TypeScript that knows koffi.  It offers the
 * ABI's two calls through a Backend, the struct layouts as encode/decode of
 * plain objects, and what scripts/gen-abi.ts generates from vpc.h: the op
 * table, the constants, errnos, object types and counter records.
 */
import type { Backend } from './backend.ts';
import { loadFreeBSDBackend } from './freebsd.ts';
import { loadHostBackend } from './host.ts';

export type { Backend, CtlResult, UpcallRelay } from './backend.ts';
export { zeroedBuffer, zeroedBytes } from './bytes.ts';
export { decode, encode, encodeTransient, koffiLayouts, offsetOf, sizeOf, structNames } from './structs.ts';
export type { KoffiLayout, StructName, StructValues } from './structs.ts';
export { abiErrnoName, errnoName, errnoNumber } from './errno.ts';
export { hostSocketPath, libvpcPath } from './host.ts';
export { hostUpcallPath } from './upcall-host.ts';
export { UpcallChannelError, type AnsweredAhead, type UpcallChannel } from './upcall-channel.ts';
export * from './abi.generated.ts';

let current: Backend | undefined;

/**
 * The backend for this process: the module's syscalls on FreeBSD, the host
 * kernel elsewhere.  VPC_BACKEND=host|freebsd overrides the choice.
 */
export function backend(): Backend {
  if (current === undefined) {
    const choice = process.env.VPC_BACKEND ?? (process.platform === 'freebsd' ? 'freebsd' : 'host');
    if (choice !== 'host' && choice !== 'freebsd') {
      throw new Error(`VPC_BACKEND must be host or freebsd, got ${choice}`);
    }
    current = choice === 'freebsd' ? loadFreeBSDBackend() : loadHostBackend();
  }
  return current;
}

/** Use a given backend (tests, or a program embedding its own). */
export function useBackend(b: Backend): void {
  current = b;
}
