// SPDX-License-Identifier: BSD-2-Clause
/**
 * bench/cli: how fast the commands start, against `node -e 0` in the same
 * run.  What ships is measured: the build is made first (scripts/build.mjs),
 * and bin/ runs it.
 *
 *  - `vpcctl status` (against a vpc-hostd of the benchmark's own) and
 *    `vpcctl --help`: wall time from spawn to exit, median of rounds that
 *    alternate with `node -e 0`; peak RSS (getrusage maxrss of the child,
 *    reported from an exit hook loaded with --require, in separate runs so
 *    the hook costs the timings nothing);
 *  - `vpc-agent` (file resolver): from spawn to attached as the upcall
 *    reader, watched from here through the ABI (the upcall queue's reader
 *    count, every 2 ms).
 * Targets (issue 16 item 7): status within 2x `node -e 0` and 60 MiB; the
 * agent attached within 0.5 s.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ping, upcallStats } from '../src/vpc/index.ts';
import { startHostd } from '../test/helpers/hostd.ts';
import { root } from '../test/helpers/paths.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11);
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Milliseconds from spawn to exit. */
function wall(args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/** Peak resident memory (MiB) of a run, from its own getrusage at exit. */
function peakMiB(args: string[], env: NodeJS.ProcessEnv, hook: string, out: string): number {
  const r = spawnSync(process.execPath, ['--require', hook, ...args], {
    env: { ...env, VPC_BENCH_RSS_FILE: out }, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return Number(readFileSync(out, 'utf8')) / 1024;
}

/** Milliseconds from spawn to the agent attached as the upcall reader. */
async function agentAttach(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  while (upcallStats().readers > 0) await sleep(5);   // the last one has let go
  const t0 = process.hrtime.bigint();
  const p = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  try {
    for (;;) {
      if (upcallStats().readers > 0) return Number(process.hrtime.bigint() - t0) / 1e6;
      if (p.exitCode !== null) throw new Error(`vpc-agent exited ${p.exitCode}: ${err}`);
      if (Number(process.hrtime.bigint() - t0) > 30e9) throw new Error(`vpc-agent did not attach in 30 s: ${err}`);
      await sleep(2);
    }
  } finally {
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  }
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

export async function benchCli(): Promise<Record<string, number>> {
  execFileSync(process.execPath, [resolve(root, 'scripts/build.mjs'), '--quiet'], { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'vpc-bench-cli-'));
  const hostd = await startHostd();
  try {
    reconnect();
    const env = { ...process.env, VPC_HOSTD_SOCKET: hostd.socket };
    const vpcctl = resolve(root, 'bin/vpcctl.js');
    const cases: Array<[string, string[]]> = [
      ['node -e 0', ['-e', '0']],
      ['vpcctl status', [vpcctl, 'status']],
      ['vpcctl --help', [vpcctl, '--help']],
    ];
    const times = cases.map(() => [] as number[]);
    for (const [, args] of cases) wall(args, env);      // warm the page cache
    for (let r = 0; r < ROUNDS; r++) cases.forEach(([, args], i) => times[i]!.push(wall(args, env)));
    const hook = join(dir, 'rss.cjs');
    writeFileSync(hook, "process.on('exit', () => require('node:fs').writeFileSync(process.env.VPC_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));\n");
    const rss = cases.map(([, args]) => median([1, 2, 3].map(() => peakMiB(args, env, hook, join(dir, 'rss')))));

    const mappings = join(dir, 'mappings.json');
    writeFileSync(mappings, '{"mappings": []}\n');
    const agentArgs = [resolve(root, 'bin/vpc-agent.js'), '--mappings', mappings, '--metrics-addr', 'off', '--log-level', 'warn'];
    const attach: number[] = [];
    for (let r = 0; r < Math.min(ROUNDS, 7); r++) attach.push(await agentAttach(agentArgs, env));

    const base = median(times[0]!);
    console.log(`bench/cli: start to exit (ms, median of ${ROUNDS}) and peak RSS, the build in dist/`);
    cases.forEach(([name], i) => {
      const m = median(times[i]!);
      console.log(`  ${name.padEnd(16)} ${m.toFixed(0).padStart(6)} ms${i === 0 ? ' (baseline)' : `   ${(m / base).toFixed(2)}x`}   ${rss[i]!.toFixed(0).padStart(3)} MiB`);
    });
    console.log(`  vpc-agent, start to attached as the upcall reader: ${median(attach).toFixed(0)} ms (median of ${attach.length}; ${(median(attach) / base).toFixed(1)}x node -e 0)`);
    return {
      cli_node_ms: base,
      cli_status_ms: median(times[1]!), cli_status_ratio: median(times[1]!) / base, cli_status_mib: rss[1]!,
      cli_help_ms: median(times[2]!), cli_help_ratio: median(times[2]!) / base, cli_help_mib: rss[2]!,
      cli_agent_attach_ms: median(attach),
    };
  } finally {
    await hostd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCli();
