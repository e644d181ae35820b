// SPDX-License-Identifier: BSD-2-Clause
/**
 * The C unit tests of the portable core (kmod/tests/unit/test_core.c), driving the
 * core directly with no daemon, and the check that the core builds as a
 * kernel would build it (freestanding, integer registers only) and reaches
 * the OS only through os_* functions.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { buildDir, root } from './helpers/paths.ts';

test('core unit tests (C)', () => {
  const r = spawnSync(resolve(buildDir, 'test_core'), { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /\d+ passed, 0 failed/);
});

test('allocation failure at every call site: ENOMEM and nothing changed (C)', () => {
  const r = spawnSync(resolve(buildDir, 'test_faults'), { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /\d+ passed, 0 failed/);
});

test('the core builds freestanding and needs nothing but os_* (and mem*)', () => {
  const r = spawnSync('make', ['-s', '-C', resolve(root, 'kmod'), 'freestanding'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /all os_\* or mem\*/);
});
