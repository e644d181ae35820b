// SPDX-License-Identifier: BSD-2-Clause
/**
 * A real etcd (Debian's etcd-server) on loopback for the agent tests: by
 * default a cluster of three members, each an `etcd` process with a data
 * directory of its own, as a directory shared by many compute nodes would
 * run.  kill() stops them all hard and start() brings them back on the same
 * ports and data; killMember()/startMember() do it to one, and leader()
 * says which one leads.  Everything it starts dies with the test process
 * (reaper), and stop() removes the data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopProcess } from './proc.ts';
import { killOnExit, onExit } from './reaper.ts';

/*
 * A port nobody listens on now, drawn below the kernel's ephemeral range
 * (32768-60999 by default): a port listen(0) picks is one that any outbound
 * connection may take in the moment between our check and etcd's bind,
 * and suite runs lost a cluster that way ("bind: address already in use").
 */
const PORT_LOW = 20000;
const PORT_SPAN = 12000;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  for (;;) {
    const port = PORT_LOW + Math.floor(Math.random() * PORT_SPAN);
    if (await portFree(port)) return port;
  }
}

interface Member {
  name: string;
  client: string;
  peer: string;
  proc: ChildProcess | undefined;
  err: string;
}

export class EtcdServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'vpc-etcd-'));
  /** The data directory goes on ^C too (after the process is killed), not only in stop(). */
  readonly #atExit = onExit(() => rmSync(this.dir, { recursive: true, force: true }));
  readonly #n: number;
  #members: Member[] = [];

  constructor(opts: { members?: number } = {}) {
    this.#n = opts.members ?? 3;
  }

  /** Every member's client URL. */
  get endpoints(): string[] {
    return this.#members.map((m) => m.client);
  }

  /** The first member's client URL (what a single-server caller wants). */
  get endpoint(): string {
    return this.#members[0]?.client ?? '';
  }

  async #setup(): Promise<void> {
    if (this.#members.length > 0) return;
    for (let i = 0; i < this.#n; i++) {
      this.#members.push({
        name: `m${i}`, client: `http://127.0.0.1:${await freePort()}`, peer: `http://127.0.0.1:${await freePort()}`, proc: undefined, err: '',
      });
    }
  }

  #spawn(m: Member): void {
    const cluster = this.#members.map((x) => `${x.name}=${x.peer}`).join(',');
    m.err = '';
    m.proc = killOnExit(spawn('etcd', [
      '--name', m.name, '--data-dir', join(this.dir, m.name),
      '--listen-client-urls', m.client, '--advertise-client-urls', m.client,
      '--listen-peer-urls', m.peer, '--initial-advertise-peer-urls', m.peer,
      '--initial-cluster', cluster, '--initial-cluster-token', `vpc-test-${process.pid}`,
      '--initial-cluster-state', 'new', '--log-level', 'warn',
      // Loopback: elect a new leader within a second or so of losing one.
      '--heartbeat-interval', '100', '--election-timeout', '1000',
    ], { stdio: ['ignore', 'ignore', 'pipe'] }));
    m.proc.stderr!.setEncoding('utf8').on('data', (d: string) => { m.err += d; });
  }

  async #healthy(m: Member, ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      try {
        const r = await fetch(`${m.client}/health`);
        if (r.ok && ((await r.json()) as { health?: string }).health === 'true') return;
      } catch { /* not yet */ }
      if (m.proc?.exitCode !== null && m.proc?.exitCode !== undefined) throw new Error(`etcd ${m.name} exited: ${m.err}`);
      if (Date.now() > end) throw new Error(`etcd ${m.name} did not become healthy: ${m.err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Start every member that is not running; resolves when all are healthy (a leader is elected). */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const fresh = this.#members.length === 0;
      await this.#setup();
      for (const m of this.#members) if (!this.#running(m)) this.#spawn(m);
      try {
        await Promise.all(this.#members.map((m) => this.#healthy(m)));
        return;
      } catch (e) {
        // Another process took a port first (tests run in parallel): a new
        // cluster on new ports, once it is known no member ever ran.
        if (!fresh || attempt >= 3 || !/address already in use/.test((e as Error).message)) throw e;
        await this.kill();
        for (const m of this.#members) rmSync(join(this.dir, m.name), { recursive: true, force: true });
        this.#members = [];
      }
    }
  }

  async startMember(i: number): Promise<void> {
    const m = this.#members[i]!;
    if (!this.#running(m)) this.#spawn(m);
    await this.#healthy(m);
  }

  #running(m: Member): boolean {
    return m.proc !== undefined && m.proc.exitCode === null && m.proc.signalCode === null;
  }

  /** Stop one member hard, as a crash would. */
  async killMember(i: number): Promise<void> {
    const p = this.#members[i]?.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await stopProcess(p, 'SIGKILL', `etcd member ${i}`);
  }

  /** Stop them all hard. */
  async kill(): Promise<void> {
    await Promise.all(this.#members.map((_, i) => this.killMember(i)));
  }

  /** Which member leads now (asking the running ones), or -1. */
  async leader(): Promise<number> {
    for (const m of this.#members) {
      if (!this.#running(m)) continue;
      try {
        const r = await fetch(`${m.client}/v3/maintenance/status`, { method: 'POST', body: '{}' });
        const s = (await r.json()) as { header: { member_id: string }; leader: string };
        if (!s.leader || s.leader === '0') continue;
        // Ask each running member its own id to find the leader's index.
        for (let i = 0; i < this.#members.length; i++) {
          const x = this.#members[i]!;
          if (!this.#running(x)) continue;
          const rx = await fetch(`${x.client}/v3/maintenance/status`, { method: 'POST', body: '{}' });
          if (((await rx.json()) as { header: { member_id: string } }).header.member_id === s.leader) return i;
        }
      } catch { /* that one is not answering */ }
    }
    return -1;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
    this.#atExit.forget();
  }
}
