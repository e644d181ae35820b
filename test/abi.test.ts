// SPDX-License-Identifier: BSD-2-Clause
/**
 * The ABI as the C compiler lays it out (kmod/build/abi_dump, from vpc.h,
 * freebsd_layouts.h and the core's op table) against the TypeScript side:
 * the generated files are what the headers generate today; every struct,
 * field and integer type exists on both sides with the same offset, size and
 * type; fields tile their struct; every op names key and value types that
 * exist.  Also: the host socket paths agree with C, and (with FREEBSD_SRC)
 * the copied FreeBSD layouts and the errnos agree with a FreeBSD tree.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import {
  ABI_ERRNOS, abiErrnoName, FREEBSD, hostSocketPath, hostUpcallPath, koffiLayouts, OBJECT_TYPES, SWITCH_STATS, VCC_STATS,
  VPC_SWSTAT_COUNT, VPC_VCCSTAT_COUNT, type KoffiLayout,
} from '../src/ffi/index.ts';
import { typeNumbers } from '../src/vpc/object.ts';
import { intTypeOfStdint, type DumpField, type DumpRecord } from '../scripts/abi/dump.ts';
import { CLANG } from '../scripts/abi/header.ts';
import { arrayWrapper } from '../scripts/abi/render-structs.ts';
import { C_LIST, dumpAbi, readHeaders, renderCListFile, renderDumpFiles } from '../scripts/gen-abi.ts';
import { buildDir, root } from './helpers/paths.ts';

const dump = dumpAbi(buildDir);
const koffi = koffiLayouts();
const vpcRecords = Object.entries(dump.records).filter(([, r]) => r.header === 'vpc.h');
const copiedRecords = Object.entries(dump.records).filter(([, r]) => r.header !== 'vpc.h');

/** Where a checked-in generated file first differs from what the generator writes now. */
function staleness(path: string, want: string): string | undefined {
  const have = readFileSync(resolve(root, path), 'utf8').split('\n');
  const lines = want.split('\n');
  const at = lines.findIndex((l, i) => have[i] !== l);
  if (at < 0 && have.length === lines.length) return undefined;
  const line = at < 0 ? lines.length : at;
  const show = (l: string | undefined) => `  ${l ?? '(end of file)'}`;
  return `${path} is stale (run \`npm run gen:abi\`): line ${line + 1} is\n${show(have[line])}\nbut should be\n${show(lines[line])}`;
}

test('the generated files are what the headers generate now (npm run gen:abi)', () => {
  const headers = readHeaders();
  const files = new Map([[C_LIST, renderCListFile(headers)], ...renderDumpFiles(dump, headers)]);
  const stale = [...files].map(([path, text]) => staleness(path, text)).filter((s) => s !== undefined);
  assert.deepEqual(stale, []);
});

/** A C field as koffi must hold it (the generator's rules: char arrays are bytes, vpc_id_t is its array). */
function asKoffiSees(f: DumpField): KoffiLayout['fields'][number] {
  const bytes = (t: string) => (t === 'char' ? 'uint8' : t);
  const wrapped = f.shape === 'nested' ? arrayWrapper(dump.records[f.type]) : undefined;
  if (wrapped !== undefined) {
    return { name: f.name, shape: 'array', offset: f.offset, size: f.size, type: bytes(wrapped.type), count: wrapped.count };
  }
  if (f.shape === 'array') return { name: f.name, shape: 'array', offset: f.offset, size: f.size, type: bytes(f.type), count: f.count };
  if (f.shape === 'nested') return { name: f.name, shape: 'nested', offset: f.offset, size: f.size, type: f.type, count: 1 };
  return { name: f.name, shape: 'scalar', offset: f.offset, size: f.size, type: f.type === 'char' ? 'int8' : f.type, count: 1 };
}

function sameLayout(name: string, c: DumpRecord, k: KoffiLayout | undefined): void {
  assert.ok(k !== undefined, `${name} has no koffi type`);
  assert.equal(k.size, c.size, `sizeof(${name})`);
  assert.equal(k.union, c.union, `${name}: struct or union`);
  // Whole lists: a field missing on either side, or in another order, fails too.
  assert.deepEqual(k.fields, c.fields.map(asKoffiSees), `${name}: fields`);
}

test('every struct of vpc.h has a koffi twin: same size, same fields, offsets, sizes and types', () => {
  for (const [name, c] of vpcRecords) sameLayout(name, c, koffi.abi[name]);
});

test('koffi has no struct and no integer type that vpc.h lacks', () => {
  for (const [name, k] of Object.entries(koffi.abi)) {
    if (k.type === undefined) {
      assert.equal(dump.records[name]?.header, 'vpc.h', `koffi type ${name} is not a struct of vpc.h`);
    } else {
      const c = dump.types[name] ?? (intTypeOfStdint(name) !== undefined ? { type: intTypeOfStdint(name)!, size: k.size } : undefined);
      assert.ok(c !== undefined, `koffi type ${name} is not a type of vpc.h`);
      assert.deepEqual({ size: k.size, type: k.type }, { size: c.size, type: c.type }, name);
    }
  }
  for (const [name, c] of Object.entries(dump.types)) {
    assert.deepEqual({ size: koffi.abi[name]?.size, type: koffi.abi[name]?.type }, c, `${name} in koffi`);
  }
});

test('the FreeBSD layouts userland copies have koffi twins', () => {
  assert.ok(copiedRecords.length > 0);
  for (const [name, c] of copiedRecords) sameLayout(name, c, koffi.freebsd[name]);
  assert.deepEqual(Object.keys(koffi.freebsd).sort(), copiedRecords.map(([n]) => n).sort());
});

// vpc.h's own structs only: the FreeBSD copies keep FreeBSD's layout, implicit padding and all.
test('fields tile every struct of vpc.h: no gap, padding explicit and named _padN', () => {
  for (const [name, r] of vpcRecords) {
    if (r.union) {
      for (const f of r.fields) assert.ok(f.offset === 0 && f.size <= r.size, `${name}.${f.name}`);
      continue;
    }
    let at = 0;
    for (const f of [...r.fields].sort((a, b) => a.offset - b.offset)) {
      assert.ok(f.offset >= at, `${name}.${f.name} overlaps the field before it`);
      assert.equal(f.offset, at, `${name}: bytes ${at}..${f.offset - 1} are the compiler's padding: declare them as _padN`);
      if (f.name.startsWith('_')) assert.ok(f.padding, `${name}.${f.name}: a name starting with _ is padding, _padN`);
      if (f.padding) assert.ok(['uint8', 'uint16', 'uint32', 'uint64'].includes(f.type), `${name}.${f.name}: padding is unsigned`);
      at = f.offset + f.size;
    }
    assert.equal(at, r.size, `${name}: bytes ${at}..${r.size - 1} are the compiler's tail padding: declare them as _padN`);
    for (const [alias, of] of Object.entries(r.aliases)) {
      assert.ok(r.fields.some((f) => f.name === of), `${name}.${alias} aliases no field`);
    }
  }
});

test('every op names key and value types that exist, of the sizes the core checks', () => {
  const stdintSize = (t: string) => (intTypeOfStdint(t) === undefined ? undefined : Number(/\d+/.exec(t)![0]) / 8);
  const sizeOfType = (t: string) => dump.records[t]?.size ?? dump.types[t]?.size ?? stdintSize(t);
  for (const o of dump.ops) {
    for (const [type, size] of [[o.key, o.keysz], [o.value, o.valsz]] as const) {
      if (type === null) {
        assert.equal(size, 0, `${o.name}: a size without a type`);
      } else {
        assert.equal(sizeOfType(type), size, `${o.name}: ${type} is not a type of vpc.h of ${size} bytes`);
        assert.ok(koffi.abi[type] !== undefined, `${o.name}: ${type} has no koffi type`);
      }
    }
  }
  const opConstants = Object.keys(dump.constants).filter((c) => c.startsWith('VPC_OP_')).sort();
  assert.deepEqual(dump.ops.map((o) => o.name).sort(), opConstants, 'a VPC_OP_* without a row in the op table, or the reverse');
  for (const o of dump.ops) assert.equal(String(o.op), dump.constants[o.name], o.name);
});

test('the ABI errnos are errno names, and name their numbers', () => {
  assert.ok(Object.keys(ABI_ERRNOS).length >= 20);
  for (const [name, num] of Object.entries(ABI_ERRNOS)) {
    assert.ok(name in constants.errno, `VPC_${name} is not an errno name`);
    assert.equal(abiErrnoName(num), name);
  }
});

test('every object type of vpc.h has an API name, and its number', () => {
  assert.deepEqual(Object.values(typeNumbers).sort(), Object.values(OBJECT_TYPES).sort());
});

test('the counter records have one name per slot', () => {
  assert.equal(SWITCH_STATS.length, VPC_SWSTAT_COUNT);
  assert.equal(VCC_STATS.length, VPC_VCCSTAT_COUNT);
  assert.equal(SWITCH_STATS[Number(dump.constants.VPC_SWSTAT_DROP_SPOOF)], 'dropSpoof');
  assert.equal(SWITCH_STATS[Number(dump.constants.VPC_SWSTAT_TX_REMOTE)], 'txRemote');
});

const SOCKET_ENV = ['VPC_HOSTD_SOCKET', 'VPC_UPCALL_SOCKET', 'XDG_RUNTIME_DIR'];

/** The C definition's answer: kmod/tools/socket_paths, run as uid (real and effective). */
function cSocketPaths(env: Record<string, string>, uid: number): string[] {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SOCKET_ENV.includes(k)));
  const asRoot = process.geteuid?.() === 0;
  const r = spawnSync(resolve(buildDir, 'socket_paths'), { encoding: 'utf8', env: { ...base, ...env }, ...(asRoot ? { uid } : {}) });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n');
}

/**
 * TypeScript's answer under effective uid euid, the real uid left as it is:
 * where getuid and geteuid part.  (Only this process changes uids: a
 * sanitizer build of socket_paths refuses to run in such a split state.)
 */
function tsSocketPaths(env: Record<string, string>, euid: number): string[] {
  const saved = { ...process.env };
  const before = process.geteuid!();
  for (const k of SOCKET_ENV) delete process.env[k];
  Object.assign(process.env, env);
  if (euid !== before) process.seteuid!(euid);
  try {
    return [hostSocketPath(), hostUpcallPath()];
  } finally {
    if (euid !== before) process.seteuid!(before);
    process.env = saved;
  }
}

test('TypeScript finds the host sockets where libvpc and vpc-hostd do', () => {
  const envs: Array<Record<string, string>> = [
    {},
    { XDG_RUNTIME_DIR: '/run/user/4242' },
    { XDG_RUNTIME_DIR: 'not/absolute' },
    { VPC_HOSTD_SOCKET: '/srv/vpc/ctl.sock' },
    { VPC_HOSTD_SOCKET: '/srv/vpc/ctl.sock', VPC_UPCALL_SOCKET: '/srv/up.sock' },
  ];
  const me = process.geteuid?.() ?? 0;
  const euids = me === 0 ? [0, 65534] : [me];
  for (const euid of euids) {
    for (const env of envs) {
      assert.deepEqual(tsSocketPaths(env, euid), cSocketPaths(env, euid), `euid ${euid}, ${JSON.stringify(env)}`);
    }
  }
});

/**
 * With FREEBSD_SRC, the copies of freebsd_layouts.h and vpc.h's errnos are
 * compiled against that tree's own headers, for the FreeBSD target: a
 * _Static_assert per field offset and size, per errno, and per constant
 * copied from FreeBSD (FREEBSD: open flags, poll events, EINTR).
 */
const freebsdSrc = process.env.FREEBSD_SRC;
test('the copied FreeBSD layouts and the ABI errnos match a FreeBSD tree', {
  skip: freebsdSrc ? false : 'FREEBSD_SRC is not set: the FreeBSD layouts are checked only against our copy',
}, () => {
  const src = resolve(freebsdSrc!);
  assert.ok(existsSync(join(src, 'sys/sys/module.h')), `${src} is not a FreeBSD source tree (no sys/sys/module.h)`);
  const work = mkdtempSync(join(tmpdir(), 'vpc-fbsd-abi-'));
  try {
    // What a kernel build links as machine/ and x86/ for amd64.
    symlinkSync(join(src, 'sys/amd64/include'), join(work, 'machine'));
    symlinkSync(join(src, 'sys/x86/include'), join(work, 'x86'));
    const asserts = [
      '#include <sys/param.h>',
      '#include <sys/module.h>',
      '#include <sys/errno.h>',
      '#include <sys/fcntl.h>',
      '#include <sys/poll.h>',
      '#define CHECK(c) _Static_assert(c, #c)',
      ...copiedRecords.flatMap(([, r]) => [
        `CHECK(sizeof(${r.ctype}) == ${r.size});`,
        ...r.fields.flatMap((f) => [
          `CHECK(__builtin_offsetof(${r.ctype}, ${f.name}) == ${f.offset});`,
          `CHECK(sizeof(((${r.ctype} *)0)->${f.name}) == ${f.size});`,
        ]),
      ]),
      ...Object.entries(ABI_ERRNOS).map(([name, num]) => `CHECK(${name} == ${num});`),
      ...Object.entries(FREEBSD).map(([name, num]) => `CHECK(${name} == ${num});`),
    ];
    writeFileSync(join(work, 'check.c'), `${asserts.join('\n')}\n`);
    const includes = [work, join(src, 'sys'), join(src, 'include')].filter(existsSync).flatMap((d) => ['-I', d]);
    const r = spawnSync(CLANG, ['-target', 'x86_64-unknown-freebsd14.2', '-nostdinc', ...includes, '-fsyntax-only',
      join(work, 'check.c')], { encoding: 'utf8' });
    assert.equal(r.status, 0, `the FreeBSD tree disagrees with freebsd_layouts.h or vpc.h:\n${r.stderr}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
