// SPDX-License-Identifier: BSD-2-Clause
/**
 * The fuzz targets as regression tests: every seed and every input that once
 * crashed (kmod/tests/fuzz/regressions/) runs once through its fuzzer, which checks
 * the invariants and that nothing leaked after each.  (Fuzzing itself, for a
 * while: npm run fuzz -- --seconds N; CI runs a short bout.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { root } from './helpers/paths.ts';

const fuzzDir = join(root, 'kmod/tests/fuzz');
const haveClang = spawnSync('clang-19', ['--version']).status === 0;

before(() => {
  if (!haveClang) return;
  const r = spawnSync('make', ['-s', '-C', join(root, 'kmod'), 'fuzz'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

for (const t of ['ctl', 'frames', 'answers', 'wire', 'nat']) {
  test(`fuzz_${t}: the seeds and every past crash run clean`, (c) => {
    if (!haveClang) {
      c.skip('clang-19 (and libFuzzer) not installed: scripts/install-os-deps.sh installs them');
      return;
    }
    const inputs = ['corpus', 'regressions'].flatMap((d) => {
      const dir = join(fuzzDir, d, t);
      return existsSync(dir) ? readdirSync(dir).map((f) => join(dir, f)) : [];
    });
    assert.ok(inputs.length > 0, 'there are seeds');
    const r = spawnSync(join(root, 'kmod/build-fuzz', `fuzz_${t}`), ['-runs=1', ...inputs], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr.split('\n').slice(-20).join('\n'));
    c.diagnostic(`${inputs.length} inputs`);
  });
}
