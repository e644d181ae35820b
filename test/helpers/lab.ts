// SPDX-License-Identifier: BSD-2-Clause
/**
 * A lab of network namespaces: compute nodes, VMs, an underlay.  Everything
 * a Lab creates is removed by cleanup(), which tests call from after(); an
 * exit and signal handler removes what is left if the test process dies
 * first.  Names carry the test process's pid so parallel runs never meet.
 * Addresses are from the documentation ranges (RFC 5737/3849) and never
 * leave the namespaces.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { killOnExit, onExit } from './reaper.ts';


export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export class Lab {
  readonly prefix: string;
  readonly namespaces: string[] = [];
  readonly procs: ChildProcess[] = [];
  readonly #atExit: { forget(): void };

  constructor(tag: string) {
    this.prefix = `v${process.pid % 100000}${tag}`;
    this.#atExit = onExit(() => this.cleanupSync());
  }

  ns(name: string): string {
    return `${this.prefix}-${name}`;
  }

  /** Run a command; throws with its output if it fails (unless allowed to). */
  run(cmd: string, args: string[], opts: { ns?: string; allowFail?: boolean; timeoutMs?: number } = {}): RunResult {
    const full = opts.ns ? ['netns', 'exec', this.ns(opts.ns), cmd, ...args] : args;
    const r = spawnSync(opts.ns ? 'ip' : cmd, full, { encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000 });
    const res = { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    if (!opts.allowFail && r.status !== 0) {
      throw new Error(`${opts.ns ? `[${opts.ns}] ` : ''}${cmd} ${args.join(' ')} failed (${r.status}): ${res.stderr}${res.stdout}`);
    }
    return res;
  }

  ip(ns: string | undefined, ...args: string[]): RunResult {
    return this.run('ip', ns ? ['-n', this.ns(ns), ...args] : args);
  }

  addNs(...names: string[]): void {
    for (const n of names) {
      this.run('ip', ['netns', 'add', this.ns(n)]);
      this.namespaces.push(this.ns(n));
      this.ip(n, 'link', 'set', 'lo', 'up');
    }
  }

  /** A veth pair between two namespaces. */
  veth(nsA: string, ifA: string, nsB: string, ifB: string): void {
    this.run('ip', ['link', 'add', ifA, 'netns', this.ns(nsA), 'type', 'veth', 'peer', 'name', ifB, 'netns', this.ns(nsB)]);
    this.ip(nsA, 'link', 'set', ifA, 'up');
    this.ip(nsB, 'link', 'set', ifB, 'up');
  }

  /** Start a long-running process in a namespace; it is killed at cleanup. */
  spawnIn(ns: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', this.ns(ns), cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    this.procs.push(killOnExit(p));
    return p;
  }

  cleanupSync(): void {
    for (const p of this.procs) {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    }
    for (const n of this.namespaces.splice(0).reverse()) {
      spawnSync('ip', ['netns', 'del', n]);
    }
    this.#atExit.forget();
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.procs.map((p) => new Promise<void>((resolve) => {
      if (p.exitCode !== null || p.signalCode !== null) return resolve();
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
      setTimeout(() => p.kill('SIGKILL'), 5000).unref();
    })));
    this.cleanupSync();
  }
}
