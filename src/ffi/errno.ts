/**
 * errno numbers are the platform's own (Linux on the host kernel, FreeBSD on
 * the module); Node knows the local table.
 */
import { constants } from 'node:os';

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
 * Errno numbers inside values (per-answer results of SYS_UPCALL_ANSWER) are
 * the ABI's own: FreeBSD's, on every platform.
 */
const ABI_ERRNOS: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 7: 'E2BIG', 9: 'EBADF', 12: 'ENOMEM', 13: 'EACCES', 16: 'EBUSY', 17: 'EEXIST',
  22: 'EINVAL', 24: 'EMFILE', 28: 'ENOSPC', 34: 'ERANGE', 35: 'EAGAIN', 45: 'EOPNOTSUPP',
  47: 'EAFNOSUPPORT', 48: 'EADDRINUSE', 49: 'EADDRNOTAVAIL', 55: 'ENOBUFS', 60: 'ETIMEDOUT', 70: 'ESTALE', 82: 'EIDRM',
};

export function abiErrnoName(errno: number): string {
  return ABI_ERRNOS[errno] ?? `E#${errno}`;
}
