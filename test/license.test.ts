// SPDX-License-Identifier: BSD-2-Clause
// Every source file names its license (SPDX line in its first lines), the
// LICENSE file is the license package.json names, and the generators keep the
// line in what they write: scripts/spdx.mjs is the check, run here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs script without types
import { SPDX, sources, hasSpdx, commentFor } from '../scripts/spdx.mjs';

import { root } from './helpers/paths.ts';

test('every tracked source file carries the SPDX line', () => {
  const files: string[] = sources();
  assert.ok(files.length > 100, `found only ${files.length} source files`);
  const missing = files.filter((p) => !hasSpdx(readFileSync(join(root, p), 'utf8')));
  assert.deepEqual(missing, [], 'run: node scripts/spdx.mjs --fix');
});

test('the line names the license of LICENSE and package.json', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  assert.equal(pkg.license, 'BSD-2-Clause');
  assert.ok(SPDX.endsWith(pkg.license));
  assert.match(readFileSync(join(root, 'LICENSE'), 'utf8'), /Redistribution and use in source and binary forms/);
});

test('the check tells a source from a file without one, and sees only the first lines', () => {
  assert.equal(commentFor('kmod/core/vpc_fwd.c')!(SPDX), `/* ${SPDX} */`);
  assert.equal(commentFor('src/vpc/index.ts')!(SPDX), `// ${SPDX}`);
  assert.equal(commentFor('kmod/Makefile')!(SPDX), `# ${SPDX}`);
  assert.equal(commentFor('README.md'), undefined);
  assert.equal(hasSpdx(`#!/bin/sh\n# ${SPDX}\n`), true);
  assert.equal(hasSpdx('a\nb\nc\nd\ne\n' + SPDX), false);
});
