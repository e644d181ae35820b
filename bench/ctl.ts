/**
 * bench/ctl: control-op throughput from TypeScript through koffi, against
 * the same mix from C (kmod/bench/ctl_bench.c) on the same vpc-hostd in the
 * same run.  One cycle = open (create a switch), GET_TXN, SW_ADD_PORT,
 * SW_GET_PORT_COUNT, close: five ops.  Rounds alternate C and TypeScript so
 * that a noisy neighbour hurts both; the median round is reported.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parse } from 'uuid';
import {
  backend, encode, sizeOf, VPC_FLAG_CREATE, VPC_FLAG_SWP_VMNIC, VPC_OP_GET_TXN,
  VPC_OP_SW_ADD_PORT, VPC_OP_SW_GET_PORT_COUNT,
} from '../src/ffi/index.ts';
import { newId, Switch } from '../src/vpc/index.ts';
import { startHostd } from '../test/helpers/hostd.ts';
import { buildDir } from '../test/helpers/paths.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function timed(fn: () => void): number {
  let cycles = 0;
  const t0 = performance.now();
  let t = 0;
  do {
    for (let i = 0; i < 64; i++, cycles++) fn();
    t = (performance.now() - t0) / 1000;
  } while (t < SECONDS);
  return (cycles * 5) / t;
}

function typedCycle(): void {
  const sw = Switch.create();
  const txn = sw.txn();
  sw.addPort({ kind: 'vmnic' }, { txn });
  sw.portCount();
  sw.close();
}

const b = () => backend();
const txnBuf = Buffer.alloc(4);
const portRes = Buffer.alloc(sizeOf('vpc_swport_t'));
const countRes = Buffer.alloc(sizeOf('vpc_switch_t'));
function rawCycle(): void {
  const h = b().open(parse(newId()), 1 | (2 << 8), VPC_FLAG_CREATE);
  b().ctl(h, VPC_OP_GET_TXN, null, txnBuf);
  b().ctl(h, VPC_OP_SW_ADD_PORT, encode('vpc_swport_t', { txn: txnBuf.readInt32LE(0), flags: VPC_FLAG_SWP_VMNIC }), portRes);
  b().ctl(h, VPC_OP_SW_GET_PORT_COUNT, null, countRes);
  b().close(h);
}

function cBench(socket: string): number {
  const out = execFileSync(resolve(buildDir, 'ctl_bench'), [String(SECONDS)], {
    env: { ...process.env, VPC_HOSTD_SOCKET: socket }, encoding: 'utf8',
  });
  return (JSON.parse(out) as { ops_per_sec: number }).ops_per_sec;
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;

export async function benchCtl(): Promise<Record<string, number>> {
  const hostd = await startHostd();
  try {
    const c: number[] = [];
    const typed: number[] = [];
    const raw: number[] = [];
    typedCycle(); rawCycle();           // load libvpc, connect, warm up
    for (let r = 0; r < ROUNDS; r++) {
      c.push(cBench(hostd.socket));
      typed.push(timed(typedCycle));
      raw.push(timed(rawCycle));
    }
    const res = { c: median(c), typed: median(typed), raw: median(raw) };
    console.log('bench/ctl: open, GET_TXN, SW_ADD_PORT, SW_GET_PORT_COUNT, close (ops/s, median of rounds)');
    console.log(`  C through libvpc (baseline)   ${res.c.toFixed(0).padStart(8)}`);
    console.log(`  TypeScript, raw ffi           ${res.raw.toFixed(0).padStart(8)}   ratio ${(res.raw / res.c).toFixed(2)}`);
    console.log(`  TypeScript, typed API         ${res.typed.toFixed(0).padStart(8)}   ratio ${(res.typed / res.c).toFixed(2)}`);
    return { ctl_c_ops: res.c, ctl_ts_raw_ops: res.raw, ctl_ts_typed_ops: res.typed, ctl_ratio_typed: res.typed / res.c };
  } finally {
    await hostd.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCtl();
