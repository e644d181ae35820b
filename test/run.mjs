#!/usr/bin/env node
// npm test: every test/*.test.ts under node:test (through tsx), the C unit
// tests included (test/core.test.ts runs them), after building dist/.
// Node 20's --test takes no globs, so the files are listed here.  Pass file
// names to run only those.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
// Tests run bin/vpcctl.js and bin/vpc-agent.js as users do, and those run
// the build in dist/ when it is newer than src/: build it first, so the
// tests see what ships and never a stale build.
const build = spawnSync(process.execPath, [join(here, '../scripts/build.mjs'), '--quiet'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const files = args.length > 0 ? args : readdirSync(here).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join(here, f));
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
