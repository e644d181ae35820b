// SPDX-License-Identifier: BSD-2-Clause
/**
 * errno numbers are the platform's own (Linux on the host kernel, FreeBSD on
 * the module); Node knows the local table.
 */
import { constants } from 'node:os';
import { ABI_ERRNOS } from './abi.generated.ts';

/** Where two names share a number, the one people write. */
const preferred = new Set(['EOPNOTSUPP', 'EAGAIN', 'EDEADLK']);
const byNumber = new Map<number, string>();
for (const [name, num] of Object.entries(constants.errno)) {
  if (!byNumber.has(num) || preferred.has(name)) byNumber.set(num, name);
}

export function errnoName(errno: number): string {
  return byNumber.get(errno) ?? `E#${errno}`;
}

export function errnoNumber(name: string): number {
  const n = (constants.errno as Record<string, number>)[name];
  if (n === undefined) throw new Error(`unknown errno name ${name}`);
  return n;
}

/**
 * Errno numbers inside values (per-answer results of SYS_UPCALL_ANSWER, the
 * host upcall socket's hello) are the ABI's own: FreeBSD's, on every
 * platform, VPC_E* of vpc.h.
 */
const abiErrnoNames = new Map<number, string>(Object.entries(ABI_ERRNOS).map(([name, num]) => [num, name]));

export function abiErrnoName(errno: number): string {
  return abiErrnoNames.get(errno) ?? `E#${errno}`;
}
