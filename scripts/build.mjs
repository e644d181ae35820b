#!/usr/bin/env node
// SPDX-License-Identifier: BSD-2-Clause
// npm run build (and npm install, postinstall): compile vpcctl and
// vpc-agent to JavaScript in dist/, so that a command starts like a
// command-line tool instead of compiling TypeScript first (tsx stays for
// the tests, the benchmarks and the demo).
//
// esbuild bundles each entry point with our own code, yargs, and pino and
// prom-client (vpc-agent only) (tens of small modules that take longer to
// resolve and load one by one than to parse as one file: pino and
// prom-client with @opentelemetry/api took 96-151 ms from node_modules,
// 38-47 ms bundled; pino's transports, which find their worker files on
// disk, are not used); the other dependencies stay imports of the
// installed package: koffi (native) and jsonc-parser (a UMD module that
// requires its parts at run time).  etcd3 and cockatiel, with gRPC and
// protobufjs, are a bundle of their own (dist/cli/etcd-libs.cjs), loaded
// only when an etcd client is made.
// Code shared by the two entry points goes to chunks beside them, and
// what is imported dynamically (the directory, for `vpcctl map`) to chunks
// loaded only when asked for.
//
// The output lives two levels down (dist/cli), as src/ffi does, because
// the code finds kmod/build/libvpc.so relative to itself; the mapping-file
// loader's worker goes where file-resolver looks for it
// (dist/directory/load-worker.mjs) and FreeBSD's upcall reader where
// upcall-device looks (beside the code, .js).  bin/*.js run dist/ when it
// is newer than every file in src/, else the source through tsx.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const BUNDLED = new Set(['yargs', 'pino', 'prom-client']);
const external = Object.keys(pkg.dependencies).filter((d) => !BUNDLED.has(d)).flatMap((d) => [d, `${d}/*`]);

/*
 * yargs measures every cell of its help text with string-width, which
 * builds an Intl.Segmenter and compiles Unicode property regexes when it is
 * loaded (~20 ms), and yargs renders the help text after every command
 * (to cache it).  Our help text is printable ASCII, whose width is its
 * length: each copy of string-width is wrapped so that it is loaded only
 * for a string that is anything else.
 */
const lazyStringWidth = {
  name: 'lazy-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.namespace === 'lazy-string-width') return undefined;
      const real = await b.resolve('string-width', { kind: args.kind, resolveDir: args.resolveDir, namespace: 'lazy-string-width' });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: 'lazy-string-width' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-string-width' }, (args) => ({
      resolveDir: dirname(args.path),
      contents: `const printable = /^[\\x20-\\x7e]*$/;
let real;
export default function stringWidth(s, options) {
  if (typeof s === 'string' && printable.test(s)) return s.length;
  real ??= require(${JSON.stringify(args.path)}).default;
  return real(s, options);
}
`,
    }));
  },
};

/* `koffi` is koffi's native module without its installer's helpers (see the file). */
const koffiLoader = join(root, 'scripts/koffi-native.cjs');
const koffiNative = {
  name: 'koffi-native',
  setup(b) {
    b.onResolve({ filter: /^koffi$/ }, (args) => (args.importer === koffiLoader ? undefined : { path: koffiLoader }));
  },
};

/*
 * etcd3 parses etcd's rpc.proto (and the two files it imports) with
 * protobufjs when it is loaded, and from ${__dirname}/../proto, which a
 * bundle does not have.  The same protobufjs (the one etcd3's proto-loader
 * uses) parses it here instead, with the options that matter to parsing
 * (keepCase, as etcd3 asks), and the bundle hands proto-loader the result
 * as protobufjs JSON (proto-loader's fromJSON, with etcd3's options): the
 * same package definition, without the parse.  An etcd3 that loads its
 * protos otherwise fails the build here, not the agent at run time.
 */
const etcd3Proto = {
  name: 'etcd3-proto',
  setup(b) {
    b.onLoad({ filter: /[\\/]etcd3[\\/]lib[\\/]connection-pool\.js$/ }, (args) => {
      const src = readFileSync(args.path, 'utf8');
      const call = '(0, proto_loader_1.loadSync)(`${__dirname}/../proto/rpc.proto`, {\n    keepCase: true,';
      if (src.split(call).length !== 2) throw new Error(`${args.path}: etcd3 no longer loads rpc.proto as scripts/build.mjs expects (update its etcd3-proto plugin)`);
      const protoLoader = createRequire(args.path).resolve('@grpc/proto-loader');
      const protobuf = createRequire(protoLoader)('protobufjs');
      const root = new protobuf.Root().loadSync(join(dirname(args.path), '../proto/rpc.proto'), { keepCase: true });
      const json = JSON.stringify(JSON.stringify(root.toJSON()));
      return { contents: src.replace(call, `(0, proto_loader_1.fromJSON)(JSON.parse(${json}), {\n    keepCase: true,`), loader: 'js' };
    });
  },
};

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  external,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [lazyStringWidth, koffiNative],
};

const t0 = performance.now();
rmSync(join(root, 'dist'), { recursive: true, force: true });
/*
 * The commands are CommonJS (.cjs, which bin/entry.js require()s): an ES
 * module importing a builtin such as node:fs or node:util evaluates every
 * export of it (fs.promises, the streams, util.parseArgs...), which
 * require() does not, and the ES loader's own machinery costs milliseconds
 * more.  import.meta.url is this file's URL, as in the source.  esbuild
 * does not split CommonJS: each command is one file.
 */
await build({
  ...common,
  entryPoints: { vpcctl: 'src/cli/vpcctl.ts', 'vpc-agent': 'src/cli/vpc-agent.ts' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  define: { 'import.meta.url': '__vpc_import_meta_url', VPC_ETCD_LIBS: JSON.stringify('./etcd-libs.cjs') },
  banner: { js: "const __vpc_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
});
/*
 * etcd3 and cockatiel for src/directory/etcd.ts (VPC_ETCD_LIBS above), with
 * everything they use: from node_modules they are some 60 files, each
 * resolved, read and compiled on its own.  Bundled, with the protos as
 * JSON, loading them measured 164-252 ms against 255-377 ms (6 cold starts
 * each, alternated).
 */
await build({
  ...common,
  stdin: { contents: "module.exports = { etcd3: require('etcd3'), cockatiel: require('cockatiel') };", resolveDir: root, sourcefile: 'etcd-libs.cjs' },
  outfile: 'dist/cli/etcd-libs.cjs',
  format: 'cjs',
  external: [],
  plugins: [etcd3Proto],
});
/* Workers, ES modules as in the source, where the code looks for them. */
await build({
  ...common,
  entryPoints: { 'upcall-device-worker': 'src/ffi/upcall-device-worker.ts' },
  outdir: 'dist/cli',
  format: 'esm',
});
await build({
  ...common,
  entryPoints: { 'load-worker': 'src/directory/load-worker.ts' },
  outdir: 'dist/directory',
  outExtension: { '.js': '.mjs' },
  format: 'esm',
});
if (!process.argv.includes('--quiet')) {
  console.log(`build: dist/ (vpcctl, vpc-agent) in ${Math.round(performance.now() - t0)} ms`);
}
