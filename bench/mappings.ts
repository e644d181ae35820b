// SPDX-License-Identifier: BSD-2-Clause
/**
 * bench/mappings: loading big mapping files into the file resolver, as
 * vpc-agent does, for 10k, 100k and 1M entries (~13 MB per 200k), each
 * against baselines measured in the same run:
 *
 *  - time: until the new mappings answer (the file read, checked and
 *    turned into a table in a worker), against JSON.parse of the same text
 *    on this thread (what any loader has to pay at least);
 *  - the event loop: the longest it was held during the load and the
 *    reporting of every mapping as changed that follows (a timer every
 *    5 ms measures it), against how long that JSON.parse alone holds it;
 *  - memory: what the loaded mappings add to this process's RSS (after a
 *    full GC, the loader's worker gone), against the heap a plain
 *    Map<key, Mapping> of the same entries takes (what the entries need).
 *
 * Then the same file again with every VTEP changed (a reload: diffed in the
 * worker, every change reported).  BENCH_MAPPINGS=10000,100000 picks sizes;
 * BENCH_MAPPINGS_ADDRESSES=1 gives every mapping an IPv4 and an IPv6
 * address (the address index is built too, and the Map baseline holds them).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { FileResolver } from '../src/agent/file-resolver.ts';
import { mappingKey, type Mapping } from '../src/directory/index.ts';
import { BIG_VNI_BASE, bigIp, bigIp6, bigMac, bigMappingText, bigVtep } from '../test/helpers/big-mappings.ts';

const ADDRESSES = process.env.BENCH_MAPPINGS_ADDRESSES === '1';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const MB = (b: number) => (b / 2 ** 20).toFixed(1);

function settle(): void {
  for (let i = 0; i < 3; i++) gc();
}

/** The longest the event loop went without running a 5 ms timer, while fn runs. */
async function longestStall<T>(fn: () => Promise<T>): Promise<{ value: T; stallMs: number }> {
  let last = performance.now();
  let worst = 0;
  const t = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 5);
  try {
    const value = await fn();
    return { value, stallMs: Math.max(worst, performance.now() - last) };
  } finally {
    clearInterval(t);
  }
}

interface Row {
  entries: number;
  fileMB: string;
  jsonParseMs: number;
  loadMs: number;
  reloadMs: number;
  stallMs: number;
  reloadStallMs: number;
  mapHeapMB: string;
  rssAddedMB: string;
  tableMB: string;
}

async function one(n: number, dir: string): Promise<Row> {
  const file = join(dir, `mappings-${n}.json`);
  const text = bigMappingText(n, 0, ADDRESSES);
  writeFileSync(file, text);

  // Baseline: JSON.parse of the same text, on this thread.
  settle();
  const t = performance.now();
  JSON.parse(text);
  const jsonParseMs = performance.now() - t;
  // Baseline: a plain Map of the same entries (built from the generator, so
  // nothing else is alive to blur the heap's growth).
  settle();
  let heap0 = process.memoryUsage().heapUsed;
  let map: Map<string, Mapping> | undefined = new Map();
  for (let i = 0; i < n; i++) {
    const m: Mapping = { vni: BIG_VNI_BASE + (i % 64), mac: bigMac(i), vtep: bigVtep(i), revision: 1n, ...(ADDRESSES ? { ip: bigIp(i), ip6: bigIp6(i) } : {}) };
    map.set(mappingKey(m.vni, m.mac), m);
  }
  settle();
  const mapHeap = process.memoryUsage().heapUsed - heap0;
  if (map.size !== n) throw new Error('the baseline map');
  map = undefined;
  settle();

  // The resolver, as the agent runs it.
  const loaded: number[] = [];
  const log = pino({ level: 'info' }, new Writable({
    write(chunk: Buffer, _enc, cb) {
      const l = JSON.parse(chunk.toString()) as { msg: string; ms?: number };
      if (l.msg === 'mappings loaded') loaded.push(l.ms ?? NaN);
      cb();
    },
  }));
  const r = new FileResolver(file, log);
  let changes = 0;
  r.on('change', () => { changes++; });
  settle();
  const rss0 = process.memoryUsage().rss;
  heap0 = process.memoryUsage().heapUsed;
  const first = await longestStall(() => r.start());
  await new Promise((res) => setTimeout(res, 100));     // the worker's exit
  settle();
  const rssAdded = process.memoryUsage().rss - rss0;
  if (r.size !== n || changes !== n) throw new Error(`loaded ${r.size} of ${n}, ${changes} changes`);

  writeFileSync(file, bigMappingText(n, 1, ADDRESSES));  // every VTEP moves
  const again = await longestStall(() => r.reload('bench'));
  await r.close();
  rmSync(file);
  return {
    entries: n, fileMB: MB(text.length), jsonParseMs: Math.round(jsonParseMs), loadMs: loaded[0]!, reloadMs: loaded[1]!,
    stallMs: Math.round(first.stallMs), reloadStallMs: Math.round(again.stallMs), mapHeapMB: MB(mapHeap), rssAddedMB: MB(rssAdded),
    tableMB: MB(n === 0 ? 0 : 16 * 2 ** Math.ceil(Math.log2(Math.max(16, n * 2)))),
  };
}

/** Each size in a process of its own, so one's memory does not blur the next's. */
export async function benchMappings(): Promise<Row[]> {
  const sizes = (process.env.BENCH_MAPPINGS ?? '10000,100000,1000000').split(',').map(Number);
  const rows: Row[] = [];
  for (const n of sizes) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), String(n)], {
      encoding: 'utf8', cwd: join(dirname(fileURLToPath(import.meta.url)), '..'), maxBuffer: 1 << 24,
    });
    if (r.status !== 0) throw new Error(`bench mappings ${n}: ${r.stderr}`);
    rows.push(JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Row);
  }
  console.log(`\nmappings: the file resolver loading big files${ADDRESSES ? ', every mapping with an IPv4 and an IPv6 address' : ''} (baselines from the same run)`);
  console.log('entries    file MB  JSON.parse ms  load ms (x)   reload ms  loop held ms: load, reload (JSON.parse)  Map heap MB  RSS added MB (x Map)  table MB');
  for (const r of rows) {
    console.log([
      String(r.entries).padEnd(10), r.fileMB.padStart(7), String(r.jsonParseMs).padStart(14),
      `${r.loadMs} (${(r.loadMs / r.jsonParseMs).toFixed(1)}x)`.padStart(13), String(r.reloadMs).padStart(11),
      `${r.stallMs}, ${r.reloadStallMs} (${r.jsonParseMs})`.padStart(41), r.mapHeapMB.padStart(12),
      `${r.rssAddedMB} (${(Number(r.rssAddedMB) / Number(r.mapHeapMB)).toFixed(2)}x)`.padStart(21), r.tableMB.padStart(9),
    ].join(' '));
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = mkdtempSync(join(tmpdir(), 'vpc-bench-map-'));
  try {
    console.log(JSON.stringify(await one(Number(process.argv[2]), dir)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
