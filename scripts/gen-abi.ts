// SPDX-License-Identifier: BSD-2-Clause
/**
 * Generates the TypeScript side of the ABI from the headers (npm run gen:abi):
 *
 *   kmod/include/vpc.h, freebsd_layouts.h
 *     --clang-19's AST-->  kmod/tools/abi_list.generated.h  (names and types)
 *     --cc-->              kmod/build/abi_dump              (the compiler's layout)
 *     --run-->             src/ffi/structs.generated.ts     (koffi types, value types)
 *                          src/ffi/abi.generated.ts         (constants, ops, errnos, counters)
 *                          kmod/os/host/libvpc_ops.generated.h (the ops that change nothing)
 *
 * Run it after changing vpc.h or the core's op table; test/abi.test.ts fails
 * while any of the four files is not what this would write.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCList } from './abi/c-list.ts';
import { runAbiDump, type AbiDump } from './abi/dump.ts';
import { readHeader, type HeaderModel } from './abi/header.ts';
import { renderAbi } from './abi/render-abi.ts';
import { renderLibvpcOps } from './abi/render-libvpc-ops.ts';
import { renderStructs } from './abi/render-structs.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The headers read, the ABI's own first. */
export const HEADERS = ['kmod/include/vpc.h', 'kmod/include/freebsd_layouts.h'];
export const C_LIST = 'kmod/tools/abi_list.generated.h';
export const TS_STRUCTS = 'src/ffi/structs.generated.ts';
export const TS_ABI = 'src/ffi/abi.generated.ts';
export const LIBVPC_OPS = 'kmod/os/host/libvpc_ops.generated.h';

export function readHeaders(): HeaderModel[] {
  return HEADERS.map((h) => readHeader(resolve(root, h), [resolve(root, 'kmod/include')]));
}

export function renderCListFile(headers: HeaderModel[]): string {
  return renderCList(headers, HEADERS);
}

/** The files made from what abi_dump printed: the two TypeScript files and libvpc's list of ops. */
export function renderDumpFiles(dump: AbiDump, headers: HeaderModel[]): Map<string, string> {
  return new Map([
    [TS_STRUCTS, renderStructs(dump, 'vpc.h')],
    [TS_ABI, renderAbi(dump, headers[0]!.constants, headers[1]!.constants)],
    [LIBVPC_OPS, renderLibvpcOps(dump)],
  ]);
}

export function dumpAbi(buildDir = resolve(root, 'kmod/build')): AbiDump {
  return runAbiDump(buildDir);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const headers = readHeaders();
  writeFileSync(resolve(root, C_LIST), renderCListFile(headers));
  console.log(`wrote ${C_LIST}`);
  execFileSync('make', ['-s', '-C', resolve(root, 'kmod'), 'build/abi_dump'], { stdio: 'inherit' });
  for (const [path, text] of renderDumpFiles(dumpAbi(), headers)) {
    writeFileSync(resolve(root, path), text);
    console.log(`wrote ${path}`);
  }
}
