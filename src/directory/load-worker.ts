// SPDX-License-Identifier: BSD-2-Clause
/**
 * Loads a mapping file off the main thread: reads and checks it, builds the
 * MappingTable (shared memory, handed over without a copy) and works out
 * what changed against the table in force.  Whatever parsing costs in time
 * and memory is spent here; the memory goes with the worker.
 *
 * In: workerData { path, previous: TableData | null }.
 * Out: { ok: true, table, changed, removed } or { ok: false, error }.
 */
import { existsSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { DirectoryFileError, loadMappingTable } from './file.ts';
import { MappingTable, type TableData } from './table.ts';

export interface LoadRequest {
  path: string;
  previous: TableData | null;
}

export type LoadResult =
  | { ok: true; table: TableData; changed: Uint32Array; removed: Uint32Array }
  | { ok: false; error: { message: string; name: string } };

/*
 * Tests only: while the file named by VPC_AGENT_TEST_LOAD_GATE exists, the
 * load waits, so a test can look at the agent while a load is under way
 * without racing it.
 */
const gate = process.env.VPC_AGENT_TEST_LOAD_GATE;
while (gate && existsSync(gate)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);

const req = workerData as LoadRequest;
let result: LoadResult;
try {
  const table = loadMappingTable(req.path);
  const { changed, removed } = MappingTable.diff(req.previous ? MappingTable.from(req.previous) : MappingTable.empty(), table);
  result = { ok: true, table: table.data, changed, removed };
} catch (e) {
  const err = e as Error;
  result = { ok: false, error: { message: err.message, name: e instanceof DirectoryFileError ? 'DirectoryFileError' : err.name } };
}
parentPort!.postMessage(result, result.ok ? [result.changed.buffer as ArrayBuffer, result.removed.buffer as ArrayBuffer] : []);
