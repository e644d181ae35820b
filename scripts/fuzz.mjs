#!/usr/bin/env node
// SPDX-License-Identifier: BSD-2-Clause
// npm run fuzz -- [--seconds N] [target ...]: build the libFuzzer targets and
// run each for N seconds (default 60) from a copy of its seed corpus (the
// repo's corpus is not touched), with its dictionary if it has one.  Prints
// executions, coverage and crashes per target; exits 1 if any crashed.  A
// crash's input is kept under kmod/tests/fuzz/crashes/<target>/: turn it into a
// regression (kmod/tests/fuzz/regressions/<target>/) before fixing it.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fuzzDir = join(root, 'kmod/tests/fuzz');
const args = process.argv.slice(2);
let seconds = 60;
const targets = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--seconds') seconds = Number(args[++i]);
  else targets.push(args[i]);
}
if (!Number.isInteger(seconds) || seconds < 1) {
  console.error('fuzz: --seconds takes a whole number of seconds');
  process.exit(2);
}
const all = ['ctl', 'frames', 'answers', 'wire', 'nat', 'vnet'];
const chosen = targets.length > 0 ? targets : all;
for (const t of chosen) {
  if (!all.includes(t)) {
    console.error(`fuzz: no target ${t} (have ${all.join(', ')})`);
    process.exit(2);
  }
}

const build = spawnSync('make', ['-s', '-C', join(root, 'kmod'), 'fuzz'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(1);

let crashed = 0;
console.log(`fuzz: ${seconds} s per target`);
for (const t of chosen) {
  const work = mkdtempSync(join(tmpdir(), `vpc-fuzz-${t}-`));
  const corpus = join(work, 'corpus');
  mkdirSync(corpus);
  for (const d of ['corpus', 'regressions']) {
    const src = join(fuzzDir, d, t);
    if (existsSync(src)) cpSync(src, corpus, { recursive: true });
  }
  const crashes = join(fuzzDir, 'crashes', t);
  mkdirSync(crashes, { recursive: true });
  const dict = join(fuzzDir, `${t}.dict`);
  const r = spawnSync(join(root, 'kmod/build-fuzz', `fuzz_${t}`), [
    `-max_total_time=${seconds}`, '-rss_limit_mb=4096', '-print_final_stats=1', `-artifact_prefix=${crashes}/`,
    ...(existsSync(dict) ? [`-dict=${dict}`] : []), corpus,
  ], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const out = `${r.stdout}${r.stderr}`;
  const done = /#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+) corp: (\d+)/.exec(out);
  const rate = /exec\/s: (\d+)/.exec(out.slice(out.lastIndexOf('DONE')));
  if (r.status === 0 && done) {
    console.log(`  ${t.padEnd(8)} ${done[1]} execs (${rate?.[1] ?? '?'}/s), coverage ${done[2]}, features ${done[3]}, corpus ${done[4]}, crashes 0`);
  } else {
    crashed++;
    console.log(`  ${t.padEnd(8)} CRASHED (exit ${r.status}); input in ${crashes}:`);
    console.log(out.split('\n').filter((l) => /ERROR|SUMMARY|invariant|leak|abort|#\d+ /.test(l)).slice(-15).join('\n'));
  }
  rmSync(work, { recursive: true, force: true });
  if (readdirSync(crashes).length === 0) rmSync(crashes, { recursive: true, force: true });
}
process.exit(crashed > 0 ? 1 : 0);
