// SPDX-License-Identifier: BSD-2-Clause
/**
 * vpc-hostd as an operator meets it: a clear error (not a hang) when it is
 * not running, a socket only its user can use, one daemon per socket, a
 * stale socket from a crash cleaned up, handles that behave like FreeBSD's
 * descriptors (close-on-exec), and a daemon that goes away mid-session.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { startHostd } from './helpers/hostd.ts';
import { hostdBin, root, tsx } from './helpers/paths.ts';
import { stopProcess } from './helpers/proc.ts';

/** Run a snippet of TypeScript against the API in a fresh process. */
function runTs(code: string, env: NodeJS.ProcessEnv): { status: number | null; out: string } {
  const r = spawnSync(tsx, ['--eval', code], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('no daemon: VpcUnavailableError at once, naming the socket', () => {
  const socket = join(tmpdir(), `vpc-none-${process.pid}`, 'hostd.sock');
  const r = runTs(`
    import { Switch, VpcUnavailableError, kernelDescription } from './src/vpc/index.ts';
    try { Switch.create(); console.log('created?!'); }
    catch (e) { console.log(e instanceof VpcUnavailableError, e.code, kernelDescription()); }`,
  { VPC_HOSTD_SOCKET: socket });
  // At once, not a hang: runTs kills a hung one (status null).
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, new RegExp(`true ECONNREFUSED host \\(${socket.replace(/[.]/g, '\\.')}\\)`));
});

test('the socket is 0600 in a 0700 directory; a second daemon on it refuses to start', async () => {
  const d = await startHostd({ setEnv: false });
  try {
    assert.equal(statSync(d.socket).mode & 0o777, 0o600);
    const dir = join(d.dir, 'sub', 'deeper');
    const d2 = await startHostd({ socket: join(dir, 'h.sock'), setEnv: false });
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    await d2.stop();
    const r = spawnSync(hostdBin, ['--socket', d.socket], { encoding: 'utf8', timeout: 5000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /another vpc-hostd already serves/);
  } finally {
    await d.stop();
  }
});

test('a socket left by a killed daemon is taken over by the next one', async () => {
  const d = await startHostd({ setEnv: false });
  await stopProcess(d.proc, 'SIGKILL', 'vpc-hostd');
  assert.ok(statSync(d.socket).isSocket(), 'the stale socket file is still there');
  const d2 = await startHostd({ socket: d.socket, setEnv: false });
  await d2.stop();
  await d.stop().catch(() => { /* killed on purpose; this removes its directory */ });
});

test('usage errors exit 2 with the usage', () => {
  const r = spawnSync(hostdBin, ['--log-level', 'loud'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--log-level: expected error, warn, info or debug, got 'loud'/);
  const r2 = spawnSync(hostdBin, ['--bogus'], { encoding: 'utf8' });
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /usage: vpc-hostd/);
  const r3 = spawnSync(hostdBin, ['--upcall-orphan-timeout-ms', '5'], { encoding: 'utf8' });
  assert.equal(r3.status, 2);
  assert.match(r3.stderr, /--upcall-orphan-timeout-ms: expected 100-3600000, got '5'/);
});

test('handles are close-on-exec descriptors, released when the process exits', async () => {
  const d = await startHostd({ setEnv: false });
  try {
    const r = runTs(`
      import { readFileSync } from 'node:fs';
      import { Switch } from './src/vpc/index.ts';
      const sw = Switch.create();
      const flags = /flags:\\s+(\\d+)/.exec(readFileSync('/proc/self/fdinfo/' + sw.handle, 'utf8'))[1];
      console.log('cloexec', (parseInt(flags, 8) & 0o2000000) !== 0);`,
    { VPC_HOSTD_SOCKET: d.socket });
    assert.match(r.out, /cloexec true/);
  } finally {
    await d.stop();
  }
});

test('the daemon going away mid-session: VpcUnavailableError, no hang', async () => {
  const d = await startHostd({ setEnv: false });
  const exited = new Promise((res) => d.proc.once('exit', res));
  try {
    const r = runTs(`
      import { Switch, VpcUnavailableError } from './src/vpc/index.ts';
      const sw = Switch.create();
      process.kill(${d.pid}, 'SIGKILL');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
      try { sw.portCount(); } catch (e) { console.log('handle:', e instanceof VpcUnavailableError, e.code); }
      try { Switch.create(); } catch (e) { console.log('open:', e instanceof VpcUnavailableError, e.code); }`,
    { VPC_HOSTD_SOCKET: d.socket });
    assert.match(r.out, /handle: true ECONNRESET/);
    assert.match(r.out, /open: true ECONN(RESET|REFUSED)/);
  } finally {
    d.proc.kill('SIGKILL');
    await exited;
    await d.stop().catch(() => { /* killed on purpose; this removes its directory */ });
  }
});
