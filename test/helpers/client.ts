// SPDX-License-Identifier: BSD-2-Clause
/** Start test/fixtures/client.ts in a child process and talk to it. */
import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { root } from './paths.ts';
import { stopProcess } from './proc.ts';
import { killOnExit } from './reaper.ts';

export interface Client {
  proc: ChildProcess;
  call(cmd: string, args?: Record<string, unknown>): Promise<unknown>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export async function startClient(env: NodeJS.ProcessEnv = {}, fixture = 'client.ts'): Promise<Client> {
  const proc = killOnExit(fork(resolve(root, 'test/fixtures', fixture), {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  }));
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 1;
  await new Promise<void>((res, rej) => {
    proc.once('message', () => res());
    proc.once('exit', (code) => rej(new Error(`client exited ${code}`)));
  });
  // A call to a client that died fails instead of waiting forever.
  proc.once('exit', (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`client exited (${code ?? signal})`));
    pending.clear();
  });
  proc.on('message', (m: { id: number; ok: boolean; value?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.ok) p?.resolve(m.value);
    else p?.reject(Object.assign(new Error(m.error), { code: m.error }));
  });
  return {
    proc,
    call(cmd, args = {}) {
      const id = next++;
      return new Promise((res, rej) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return rej(new Error('client exited'));
        pending.set(id, { resolve: res, reject: rej });
        proc.send({ id, cmd, ...args });
      });
    },
    async kill(signal) {
      await stopProcess(proc, signal, `the ${fixture} client`);
    },
  };
}
