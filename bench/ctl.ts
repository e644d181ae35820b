// SPDX-License-Identifier: BSD-2-Clause
/**
 * bench/ctl: control-op throughput from TypeScript through koffi, against
 * the same mix from C (kmod/bench/ctl_bench.c) on the same vpc-hostd in the
 * same run, over the floor: a bare SOCK_SEQPACKET echo round trip between two
 * processes (kmod/bench/echo_bench.c), which is what one op is made of
 * before any of our code runs.  One cycle = open (create a switch), GET_TXN,
 * SW_ADD_PORT, SW_GET_PORT_COUNT, close: five ops.  Rounds alternate floor,
 * C and TypeScript so that a noisy neighbour hurts all of them; the median
 * round is reported.
 *
 * Where the two processes run decides what is measured, and the scheduler
 * picks differently from one second to the next on a shared 2-CPU VM, so
 * each placement is pinned and measured on its own:
 *   one CPU   client and daemon on the same CPU: a round trip is two
 *             context switches, and the figures are the work done;
 *   two CPUs  client and daemon on different CPUs: each round trip waits
 *             for the other CPU to wake up (tens of µs under a hypervisor),
 *             which is then most of what is measured.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  backend, encode, sizeOf, VPC_FLAG_CREATE, VPC_FLAG_SWP_VMNIC, VPC_OP_GET_TXN,
  VPC_OP_SW_ADD_PORT, VPC_OP_SW_GET_PORT_COUNT,
} from '../src/ffi/index.ts';
import { newId, ping, Switch } from '../src/vpc/index.ts';
import { idBytes } from '../src/vpc/ids.ts';
import { startHostd } from '../test/helpers/hostd.ts';
import { buildDir } from '../test/helpers/paths.ts';

// Many short rounds: each figure's median then spans the same minutes as
// the others', however the machine's load moves meanwhile.
const SECONDS = Number(process.env.BENCH_SECONDS ?? 0.5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);

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
  const h = b().open(idBytes(newId()), 1 | (2 << 8), VPC_FLAG_CREATE);
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

/** Round trips a second; the client runs here, the echo server on serverCpu. */
function echoBench(serverCpu: number): number {
  const out = execFileSync(resolve(buildDir, 'echo_bench'), [String(SECONDS), String(serverCpu)], { encoding: 'utf8' });
  return (JSON.parse(out) as { round_trips_per_sec: number }).round_trips_per_sec;
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;

/** The CPUs this process may use (Cpus_allowed_list), e.g. [0, 1]. */
function allowedCpus(): number[] {
  const list = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return list.split(',').flatMap((r) => {
    const [a, z] = r.split('-').map(Number) as [number, number | undefined];
    return Array.from({ length: (z ?? a) - a + 1 }, (_, i) => a + i);
  });
}

/** Pin every thread of pid to these CPUs. */
function pin(pid: number, cpus: number[]): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus.join(','), String(pid)], { stdio: 'ignore' });
}

interface Placement {
  name: string;
  here: number;
  daemon: number;
}

/**
 * libvpc keeps one connection per process: after an earlier benchmark's
 * daemon went away its first call says so (ECONNRESET), the next connects
 * to this one.
 */
function reconnect(): void {
  try {
    ping();
  } catch {
    // ECONNRESET, once
  }
}

export async function benchCtl(): Promise<Record<string, number>> {
  const cpus = allowedCpus();
  const placements: Placement[] = [{ name: 'one CPU', here: cpus[0]!, daemon: cpus[0]! }];
  if (cpus.length > 1) placements.push({ name: 'two CPUs', here: cpus[0]!, daemon: cpus[1]! });
  const hostd = await startHostd();
  const out: Record<string, number> = {};
  try {
    reconnect();
    typedCycle(); rawCycle();           // load libvpc, connect, warm up
    console.log('bench/ctl: open, GET_TXN, SW_ADD_PORT, SW_GET_PORT_COUNT, close (ops/s, median of rounds)');
    for (const p of placements) {
      pin(process.pid, [p.here]);
      pin(hostd.pid, [p.daemon]);
      for (let i = 0; i < 2000; i++) typedCycle();
      for (let i = 0; i < 2000; i++) rawCycle();
      const floor: number[] = [];
      const c: number[] = [];
      const typed: number[] = [];
      const raw: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        floor.push(echoBench(p.daemon));
        c.push(cBench(hostd.socket));
        typed.push(timed(typedCycle));
        raw.push(timed(rawCycle));
      }
      const m = { floor: median(floor), c: median(c), typed: median(typed), raw: median(raw) };
      console.log(`  ${p.name} (this process on CPU ${p.here}, the daemon on CPU ${p.daemon})`);
      console.log(`    floor: SEQPACKET echo, round trips/s ${m.floor.toFixed(0).padStart(8)}`);
      console.log(`    C through libvpc (baseline)   ${m.c.toFixed(0).padStart(8)}   an op costs ${(m.floor / m.c).toFixed(2)}x a round trip of the floor`);
      console.log(`    TypeScript, raw ffi           ${m.raw.toFixed(0).padStart(8)}   ratio ${(m.raw / m.c).toFixed(2)}`);
      console.log(`    TypeScript, typed API         ${m.typed.toFixed(0).padStart(8)}   ratio ${(m.typed / m.c).toFixed(2)}`);
      const k = p.name === 'one CPU' ? '' : '_2cpu';
      Object.assign(out, {
        [`ctl_floor_rtps${k}`]: m.floor, [`ctl_c_ops${k}`]: m.c, [`ctl_ts_raw_ops${k}`]: m.raw, [`ctl_ts_typed_ops${k}`]: m.typed,
        [`ctl_c_over_floor${k}`]: m.floor / m.c, [`ctl_ratio_raw${k}`]: m.raw / m.c, [`ctl_ratio_typed${k}`]: m.typed / m.c,
      });
    }
    return out;
  } finally {
    pin(process.pid, cpus);
    await hostd.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCtl();
