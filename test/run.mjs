#!/usr/bin/env node
// npm test: every test/*.test.ts under node:test (through tsx), the C unit
// tests included (test/core.test.ts runs them).  Node 20's --test takes no
// globs, so the files are listed here.  Pass file names to run only those.
// Runs from any directory: tsx is resolved from this file (the repo's
// node_modules), file names are taken relative to the working directory,
// and the tests run from the repo root.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const files = args.length > 0 ? args.map((f) => (f.startsWith('-') ? f : resolve(f))) : readdirSync(here).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join(here, f));
const tsx = import.meta.resolve('tsx');
// A test that hangs fails after 10 minutes instead of holding the run (and
// CI) until its own deadline; no test here comes near that when it works.
const timeout = '--test-timeout=600000';
const r = spawnSync(process.execPath, ['--import', tsx, '--test', '--test-concurrency=1', timeout, ...files], { stdio: 'inherit', cwd: dirname(here) });
process.exit(r.status ?? 1);
