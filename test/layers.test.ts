// SPDX-License-Identifier: BSD-2-Clause
/**
 * The layers, fenced: what may import or include what.  The graph is the
 * one README.md and docs/hacking.md describe:
 *
 *   src/cli   -> src/vpc, src/directory, src/agent
 *   src/agent -> src/vpc, src/directory
 *   src/vpc   -> src/ffi
 *   src/directory -> src/vpc/ids.ts only (parsing: the directory is written
 *                    from machines that run no vpc kernel)
 *   src/ffi   -> nothing of ours
 *
 * koffi is imported in src/ffi only, yargs in src/cli only.  In C: the OS
 * glue (kmod/os) never includes the core's private vpc_impl.h, and a core
 * .c file includes nothing but the core's own headers and vpc.h (no OS
 * header, no libc).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { root } from './helpers/paths.ts';

function walk(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p, ext) : ext.test(name) ? [p] : [];
  });
}

const layers = ['cli', 'agent', 'vpc', 'directory', 'ffi'] as const;
type Layer = (typeof layers)[number];
const allowed: Record<Layer, string[]> = {
  cli: ['src/cli', 'src/vpc', 'src/directory', 'src/agent'],
  agent: ['src/agent', 'src/vpc', 'src/directory'],
  vpc: ['src/vpc', 'src/ffi'],
  directory: ['src/directory', 'src/vpc/ids.ts'],
  ffi: ['src/ffi'],
};

/** Every `import ... from '<spec>'` and `import('<spec>')` of a file. */
function importsOf(text: string): string[] {
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"]/g)) specs.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]!);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)) specs.push(m[1]!);
  return specs;
}

test('TypeScript layers import only what the graph allows', () => {
  const wrong: string[] = [];
  for (const layer of layers) {
    for (const file of walk(resolve(root, 'src', layer), /\.ts$/)) {
      const rel = relative(root, file);
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        if (spec === 'koffi' && layer !== 'ffi') wrong.push(`${rel}: koffi outside src/ffi`);
        if (/^yargs(\/|$)/.test(spec) && layer !== 'cli') wrong.push(`${rel}: yargs outside src/cli`);
        if (!spec.startsWith('.')) continue;
        const target = relative(root, resolve(dirname(file), spec));
        if (!allowed[layer].some((a) => target === a || target.startsWith(`${a}/`))) {
          wrong.push(`${rel}: imports ${target} (src/${layer} may import ${allowed[layer].join(', ')})`);
        }
      }
    }
  }
  assert.deepEqual(wrong, []);
});

test('the layer test sees the imports it fences (it would catch a violation)', () => {
  assert.deepEqual(importsOf("import koffi from 'koffi';\nimport { x } from '../vpc/a.ts';\nconst m = await import('yargs');"),
    ['koffi', '../vpc/a.ts', 'yargs']);
});

function includesOf(text: string): string[] {
  return [...text.matchAll(/^\s*#\s*include\s+([<"][^>"]+[>"])/gm)].map((m) => m[1]!);
}

test('the OS glue never includes the core\'s private header', () => {
  const wrong = walk(resolve(root, 'kmod/os'), /\.[ch]$/)
    .filter((f) => includesOf(readFileSync(f, 'utf8')).includes('"vpc_impl.h"'))
    .map((f) => relative(root, f));
  assert.deepEqual(wrong, []);
});

test('a core .c file includes only the core\'s headers and vpc.h', () => {
  const core = resolve(root, 'kmod/core');
  const own = new Set(readdirSync(core).filter((n) => n.endsWith('.h')).map((n) => `"${n}"`));
  own.add('"vpc.h"');
  const wrong: string[] = [];
  for (const f of walk(core, /\.c$/)) {
    for (const inc of includesOf(readFileSync(f, 'utf8'))) {
      if (!own.has(inc)) wrong.push(`${relative(root, f)}: #include ${inc}`);
    }
  }
  assert.deepEqual(wrong, []);
});
