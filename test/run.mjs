#!/usr/bin/env node
// SPDX-License-Identifier: BSD-2-Clause
// npm test: every test/*.test.ts under node:test (through tsx), the C unit
// tests included (test/core.test.ts runs them), after building dist/.
// Node 20's --test takes no globs, so the files are listed here.  Pass file
// names to run only those.  Runs from any directory: tsx is resolved from
// this file (the repo's node_modules), file names are taken relative to the
// working directory, and the build and the tests run from the repo root.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const args = process.argv.slice(2);
// Tests run bin/vpcctl.js and bin/vpc-agent.js as users do, and those run
// the build in dist/ when it is newer than src/: build it first, so the
// tests see what ships and never a stale build.
const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), '--quiet'], { stdio: 'inherit', cwd: root });
if (build.status !== 0) process.exit(build.status ?? 1);
const files = args.length > 0 ? args.map((f) => (f.startsWith('-') ? f : resolve(f))) : readdirSync(here).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join(here, f));
const tsx = import.meta.resolve('tsx');
// A test that hangs fails after 10 minutes instead of holding the run (and
// CI) until its own deadline; no test here comes near that when it works.
const timeout = '--test-timeout=600000';
const r = spawnSync(process.execPath, ['--import', tsx, '--test', '--test-concurrency=1', timeout, ...files], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
