// SPDX-License-Identifier: BSD-2-Clause
/**
 * A TCP transfer between two VM namespaces, checked byte for byte
 * (test/fixtures/tcpxfer.py: the sender's and the receiver's sha256 must
 * agree).  Nothing is timed: a transfer that stalls for 60 s fails with a
 * message.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Lab } from './lab.ts';
import { until } from './overlay.ts';

const fixtures = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'fixtures');
const xferPy = join(fixtures, 'tcpxfer.py');
const PY = '/usr/bin/python3';

/** A child's output as it comes, and its exit code once all of it is read ('close', not 'exit'). */
export function collect(p: ChildProcess): { out: string[]; err: string[]; done: Promise<number | null> } {
  const out: string[] = [];
  const err: string[] = [];
  p.stdout!.setEncoding('utf8').on('data', (d: string) => out.push(d));
  p.stderr!.setEncoding('utf8').on('data', (d: string) => err.push(d));
  return { out, err, done: new Promise((r) => p.once('close', (code) => r(code))) };
}

/** BYTES of TCP from VM `from` to `addr` (served in VM `to`) on `port`; the sender's seconds. */
export async function transfer(lab: Lab, from: string, to: string, addr: string, port: number, bytes: number): Promise<number> {
  const srv = collect(lab.spawnIn(to, PY, [xferPy, 'serve', addr, String(port)]));
  await until(() => srv.out.join('').includes('ready'), `the server in ${to}`, 20_000);
  const cli = collect(lab.spawnIn(from, PY, [xferPy, 'send', addr, String(port), String(bytes), String(port)]));
  const [c1, c2] = await Promise.all([cli.done, srv.done]);
  assert.equal(c1, 0, `sender ${from} -> ${addr}: ${cli.err.join('')}`);
  assert.equal(c2, 0, `receiver in ${to}: ${srv.err.join('')}`);
  const [n, sum, secs] = cli.out.join('').trim().split(/\s+/);
  const got = srv.out.join('').trim().split('\n').at(-1)!.split(/\s+/);
  assert.equal(Number(n), bytes);
  assert.deepEqual(got, [n, sum], `${from} -> ${to}: what arrived is what was sent`);
  return Number(secs);
}
