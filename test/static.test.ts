// SPDX-License-Identifier: BSD-2-Clause
/**
 * The static checks, part of every full run: the TypeScript type check of
 * the whole tree (tsc, strict) and ESLint with typescript-eslint's
 * recommended type-aware rules (eslint.config.js), zero warnings.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { root } from './helpers/paths.ts';

function run(bin: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(resolve(root, 'node_modules/.bin', bin), args, { cwd: root, encoding: 'utf8', timeout: 10 * 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('tsc: the whole tree type-checks', () => {
  const r = run('tsc', ['-p', 'tsconfig.json']);
  assert.equal(r.status, 0, r.out);
});

test('eslint: no error, no warning', () => {
  const r = run('eslint', ['.', '--max-warnings', '0']);
  assert.equal(r.status, 0, r.out);
});
