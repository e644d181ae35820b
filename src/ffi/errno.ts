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
