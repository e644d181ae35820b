// SPDX-License-Identifier: BSD-2-Clause
// What bin/vpcctl.js and bin/vpc-agent.js run: the compiled build in dist/
// (npm install and npm run build make it) when it is newer than every file
// in src/; otherwise the TypeScript source through tsx, so a checkout being
// worked on never runs a stale build.  Without tsx (npm ci --omit=dev) a
// stale build still runs, with a warning.
//
// CommonJS (bin/package.json), as the build is: a command started as an
// ES module would bring up Node's ES loader (and fs/promises, readline...)
// for nothing.
'use strict';

const { readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

const root = join(__dirname, '..');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

async function run(name) {
  const built = join(root, 'dist/cli', `${name}.cjs`);
  let builtAt = -1;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    // not built
  }
  if (builtAt >= 0 && newest(join(root, 'src')) <= builtAt) return require(built);
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    // a production install: no tsx
  }
  if (tsx) {
    tsx.register();
    return import(pathToFileURL(join(root, 'src/cli', `${name}.ts`)).href);
  }
  if (builtAt >= 0) {
    process.stderr.write(`${name}: warning: dist/ is older than src/: run \`npm run build\`\n`);
    return require(built);
  }
  process.stderr.write(`${name}: not built: run \`npm run build\` (npm install does)\n`);
  process.exit(2);
}

module.exports = { run };
