// SPDX-License-Identifier: BSD-2-Clause
/**
 * Privilege on the host kernel: a non-root user (made for this test and
 * removed after it, also on failure) cannot reach vpc-hostd.  First the
 * socket's own mode (0600 in a 0700 directory) keeps it out; with those
 * opened wide, the daemon's peer-credential check still refuses it.
 * (FreeBSD's priv_check paths are covered by the boot test.)
 *
 * The other user runs vpcctl from a copy of what it needs (bin, src, the
 * build, the dependencies, libvpc.so) made readable to everyone: the checkout itself
 * may not be (a clone under root's 0700 home, or in a `mktemp -d`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { libvpcPath } from '../src/ffi/host.ts';
import { startHostd, type Hostd } from './helpers/hostd.ts';
import { root, VPCCTL_TIMEOUT_MS } from './helpers/paths.ts';
import { onExit } from './helpers/reaper.ts';

const user = `vpcpriv${process.pid % 100000}`;
let hostd: Hostd;
let haveUser = false;
let copy: string | undefined;
const cleanup = onExit(() => { if (copy) rmSync(copy, { recursive: true, force: true }); });

/** What vpcctl needs, copied where every user can read it. */
function readableCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vpc-priv-'));
  const cp = (from: string, to: string) => {
    const r = spawnSync('cp', ['-R', from, to], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };
  for (const p of ['bin', 'src', 'dist', 'package.json']) cp(join(root, p), join(dir, p));
  mkdirSync(join(dir, 'node_modules'));
  for (const m of readdirSync(join(root, 'node_modules'))) {
    if (m !== 'typescript' && m !== '@types') cp(join(root, 'node_modules', m), join(dir, 'node_modules', m));
  }
  mkdirSync(join(dir, 'kmod/build'), { recursive: true });
  cp(libvpcPath(), join(dir, 'kmod/build/libvpc.so'));
  const r = spawnSync('chmod', ['-R', 'a+rX', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  chmodSync(dir, 0o755);
  return dir;
}

function asUser(...args: string[]) {
  return spawnSync('runuser', ['-u', user, '--', process.execPath, resolve(copy!, 'bin/vpcctl.js'), ...args, '--socket', hostd.socket],
    { encoding: 'utf8', timeout: 120_000, cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' } });
}

before(async () => {
  hostd = await startHostd({ setEnv: false });
  const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  haveUser = true;
  copy = readableCopy();
});

after(async () => {
  if (haveUser) spawnSync('userdel', [user]);
  if (copy) rmSync(copy, { recursive: true, force: true });
  cleanup.forget();
  await hostd.stop();
});

test('a non-root user cannot reach the socket (its mode keeps it out): told EACCES, not "not reachable"', () => {
  const r = asUser('status');
  assert.equal(r.status, 1, `${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /^vpcctl: EACCES: .*permission denied/m);
  assert.doesNotMatch(r.stderr, /ECONNREFUSED|not reachable/);
});

test('with the socket opened wide, the daemon still refuses another user', () => {
  chmodSync(dirname(hostd.socket), 0o777);
  chmodSync(hostd.socket, 0o777);
  const r = asUser('switch', 'create', '--vni', '5');
  assert.equal(r.status, 1, `${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /^vpcctl: EACCES: /m, 'the daemon says why it closes the connection');
  const st = spawnSync(process.execPath, [resolve(root, 'bin/vpcctl.js'), 'status', '--json', '--socket', hostd.socket], { encoding: 'utf8', timeout: VPCCTL_TIMEOUT_MS });
  assert.equal(JSON.parse(st.stdout).objects, 0, 'nothing was created');
});
