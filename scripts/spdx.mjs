#!/usr/bin/env node
// SPDX-License-Identifier: BSD-2-Clause
/**
 * Every source file says its license in its first lines (SPDX), as the
 * LICENSE file and package.json do: BSD-2-Clause.
 *
 *   node scripts/spdx.mjs          list the files without the line (exit 1 if any)
 *   node scripts/spdx.mjs --fix    add it where it is missing
 *
 * Which files are sources: tracked files with a source extension, the
 * Makefiles and the service scripts; the line goes after a shebang.  The
 * generators write it into what they generate, so regenerating keeps it.
 * test/license.test.ts runs the check.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SPDX = 'SPDX-License-Identifier: BSD-2-Clause';
const root = dirname(dirname(fileURLToPath(import.meta.url)));

const comment = [
  [/\.(c|h)$/, (l) => `/* ${l} */`],
  [/\.(ts|js|mjs|cjs)$/, (l) => `// ${l}`],
  [/(\.(sh|py|conf)|(^|\/)(GNUmakefile|Makefile|Vagrantfile)|^service\/rc\.d\/.*)$/, (l) => `# ${l}`],
];

/** The comment that carries the line in this file, or undefined if it is no source. */
export function commentFor(path) {
  return comment.find(([re]) => re.test(path))?.[1];
}

export function sources() {
  return execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0')
    .filter((p) => p && !p.startsWith('kmod/tests/fuzz/corpus/') && commentFor(p));
}

/** Does the file carry the line in its first five lines? */
export function hasSpdx(text) {
  return text.split('\n', 5).some((l) => l.includes(SPDX));
}

function add(path) {
  const file = join(root, path);
  const text = readFileSync(file, 'utf8');
  const line = commentFor(path)(SPDX);
  const lines = text.split('\n');
  const at = lines[0]?.startsWith('#!') ? 1 : 0;
  lines.splice(at, 0, line);
  writeFileSync(file, lines.join('\n'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const missing = sources().filter((p) => !hasSpdx(readFileSync(join(root, p), 'utf8')));
  if (process.argv.includes('--fix')) {
    missing.forEach(add);
    console.log(`added the SPDX line to ${missing.length} files`);
  } else {
    for (const p of missing) console.log(p);
    process.exit(missing.length ? 1 : 0);
  }
}
