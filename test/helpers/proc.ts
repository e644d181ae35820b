// SPDX-License-Identifier: BSD-2-Clause
/**
 * Stopping a child process without ever waiting for it forever.  Awaiting
 * 'exit' after kill() hangs when the process had already exited (the event
 * fired before anyone listened) or when it ignores the signal; CI once spent
 * its whole 10-minute test timeout on a dhclient that outlived a SIGTERM.
 * stopProcess returns at once for a process that is gone, and turns a
 * process that will not stop into a failure that says so.
 */
import type { ChildProcess } from 'node:child_process';

export const exitedAlready = (p: ChildProcess): boolean => p.exitCode !== null || p.signalCode !== null;

/**
 * Send signal (unless p has exited) and wait for p's exit.  A process still
 * there after ms is SIGKILLed and the call rejects naming it: the bound only
 * turns a hang into an error, it is not a deadline any healthy process comes
 * near.  Resolves to the exit code, or the signal's name.
 */
export async function stopProcess(p: ChildProcess, signal: NodeJS.Signals, what: string, ms = 60_000): Promise<number | string> {
  const outcome = () => p.exitCode ?? (p.signalCode as string);
  if (exitedAlready(p)) return outcome();
  const exited = new Promise<void>((res) => p.once('exit', () => res()));
  p.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((res) => { timer = setTimeout(() => res(true), ms); }),
  ]);
  clearTimeout(timer);
  if (late) {
    p.kill('SIGKILL');
    await exited;
    throw new Error(`${what} (pid ${p.pid}) did not exit within ${ms / 1000} s of ${signal}; SIGKILLed`);
  }
  return outcome();
}
