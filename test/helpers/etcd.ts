/**
 * A real etcd server (Debian's etcd-server) on loopback, with a data
 * directory of its own, for the agent tests.  kill() stops it hard; start()
 * brings it back on the same ports and data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killOnExit, onExit } from './reaper.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export class EtcdServer {
  proc: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'vpc-etcd-'));
  /** The data directory goes on ^C too (after the process is killed), not only in stop(). */
  readonly #atExit = onExit(() => rmSync(this.dir, { recursive: true, force: true }));
  endpoint = '';
  #client = 0;
  #peer = 0;

  async start(): Promise<void> {
    if (this.#client === 0) {
      this.#client = await freePort();
      this.#peer = await freePort();
      this.endpoint = `http://127.0.0.1:${this.#client}`;
    }
    const peer = `http://127.0.0.1:${this.#peer}`;
    this.proc = killOnExit(spawn('etcd', [
      '--name', 'vpc-test', '--data-dir', join(this.dir, 'data'),
      '--listen-client-urls', this.endpoint, '--advertise-client-urls', this.endpoint,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `vpc-test=${peer}`, '--log-level', 'warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'] }));
    let err = '';
    this.proc.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
    // Ready when it answers on the client port.
    const end = Date.now() + 20_000;
    for (;;) {
      try {
        const r = await fetch(`${this.endpoint}/health`);
        if (r.ok) return;
      } catch { /* not yet */ }
      if (this.proc.exitCode !== null) throw new Error(`etcd exited: ${err}`);
      if (Date.now() > end) throw new Error(`etcd did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stop it hard, as a crash would. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise((r) => { p.once('exit', r); p.kill('SIGKILL'); });
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
    this.#atExit.forget();
  }
}
