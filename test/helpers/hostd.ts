// SPDX-License-Identifier: BSD-2-Clause
/**
 * A vpc-hostd of the test's own, on a private socket, in a network
 * namespace of its own (the test's, or an anonymous one).  Starting one points
 * this process's libvpc at it (VPC_HOSTD_SOCKET); stop() sends SIGTERM and
 * returns what the daemon printed, and fails the test if it exited badly or
 * if a sanitizer reported anything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { hostdBin } from './paths.ts';
import { killOnExit, onExit } from './reaper.ts';

export interface Hostd {
  pid: number;
  socket: string;
  /** Where its upcall reader connects. */
  upcallSocket: string;
  dir: string;
  proc: ChildProcess;
  stderr(): string;
  /** Resident memory of the daemon in KiB. */
  rssKiB(): number;
  /** CPU time the daemon has used (user + system, all threads) in ms. */
  cpuMs(): number;
  stop(): Promise<string>;
}

const SANITIZER_REPORT = /ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer/;

export interface HostdOptions {
  socket?: string;
  env?: NodeJS.ProcessEnv;
  /** Point this process's libvpc at it (default true). */
  setEnv?: boolean;
  args?: string[];
  /** Run it inside this network namespace (its full name). */
  netns?: string;
  /** A command that execs the daemon (e.g. ['prlimit', '--nofile=64:64', '--']). */
  prefix?: string[];
  /** Another vpc-hostd binary than the build's (bench/peer's vpc-b). */
  bin?: string;
}

export async function startHostd(opts: HostdOptions = {}): Promise<Hostd> {
  const dir = mkdtempSync(join(tmpdir(), 'vpc-hostd-'));
  // The directory goes on ^C too (after the daemon is killed), not only in stop().
  const atExit = onExit(() => rmSync(dir, { recursive: true, force: true }));
  const socket = opts.socket ?? join(dir, 'hostd.sock');
  const args = ['--socket', socket, '--log-level', 'info', ...(opts.args ?? [])];
  // Without a namespace of the test's, the daemon gets an anonymous network
  // namespace of its own (gone when it exits, however it ends): its TAP
  // devices (vpc0, vpc1, ...) and sockets never meet those of another test
  // run on the same machine.
  const netns = opts.netns
    ? ['ip', 'netns', 'exec', opts.netns]
    : ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"'];
  const cmd = [...netns, ...(opts.prefix ?? []), opts.bin ?? hostdBin, ...args];
  const proc = killOnExit(spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...opts.env } }));
  let err = '';
  proc.stderr!.setEncoding('utf8');
  const ready = new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`vpc-hostd did not start: ${err}`)), 10_000);
    proc.stderr!.on('data', (d: string) => {
      err += d;
      if (err.includes('serving on')) {
        clearTimeout(timer);
        resolveReady();
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vpc-hostd exited with ${code}: ${err}`));
    });
  });
  try {
    await ready;
  } catch (e) {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    atExit.forget();
    throw e;
  }
  if (opts.setEnv !== false) process.env.VPC_HOSTD_SOCKET = socket;
  let stopped: Promise<string> | undefined;
  return {
    pid: proc.pid!,
    socket,
    upcallSocket: join(dirname(socket), 'upcall.sock'),
    dir,
    proc,
    stderr: () => err,
    rssKiB() {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
      return m ? Number(m[1]) : 0;
    },
    cpuMs() {
      // Fields 14 and 15 of /proc/PID/stat, after the ")" that ends the name.
      const f = readFileSync(`/proc/${proc.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) * 10;     // clock ticks of 10 ms (USER_HZ 100)
    },
    stop() {
      stopped ??= new Promise<string>((resolveStop, reject) => {
        const done = (code: number | null, signal: NodeJS.Signals | null) => {
          rmSync(dir, { recursive: true, force: true });
          atExit.forget();
          if (SANITIZER_REPORT.test(err)) reject(new Error(`vpc-hostd sanitizer report:\n${err}`));
          else if (code !== 0) reject(new Error(`vpc-hostd exited with ${code ?? signal}:\n${err}`));
          else resolveStop(err);
        };
        if (proc.exitCode !== null || proc.signalCode !== null) done(proc.exitCode, proc.signalCode);
        else {
          // Bounded, so that a daemon that will not stop fails the test
          // with its log instead of holding it until the test timeout.
          const late = setTimeout(() => {
            err += '\n[test] vpc-hostd did not exit within 60 s of SIGTERM: SIGKILLed';
            proc.kill('SIGKILL');
          }, 60_000);
          proc.once('exit', (code, signal) => { clearTimeout(late); done(code, signal); });
          proc.kill('SIGTERM');
        }
      });
      return stopped;
    },
  };
}

/** What a test that only needs "a vpc kernel" holds: stop() when done. */
export interface Kernel {
  stop(): Promise<string>;
}

/**
 * A vpc kernel for tests that run on either backend: a private vpc-hostd
 * on Linux; on FreeBSD (VPC_BACKEND=freebsd, the Vagrant VM) the loaded
 * vpc.ko, which such a test must leave as it found it.
 */
export async function startKernel(): Promise<Kernel> {
  if (process.env.VPC_BACKEND !== 'freebsd') return startHostd();
  const { systemStats } = await import('../../src/vpc/index.ts');
  const before = systemStats();
  return {
    async stop() {
      const now = systemStats();
      if (now.objects !== before.objects || now.handles !== before.handles) {
        throw new Error(`vpc.ko: the test left ${now.objects - before.objects} object(s), ${now.handles - before.handles} handle(s)`);
      }
      return '';
    },
  };
}
