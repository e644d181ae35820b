/**
 * Privilege on the host kernel: a non-root user (made for this test and
 * removed after it, also on failure) cannot reach vpc-hostd.  First the
 * socket's own mode (0600 in a 0700 directory) keeps it out; with those
 * opened wide, the daemon's peer-credential check still refuses it.
 * (FreeBSD's priv_check paths are covered by the boot test.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { startHostd, type Hostd } from './helpers/hostd.ts';
import { root } from './helpers/paths.ts';

const user = `vpcpriv${process.pid % 100000}`;
let hostd: Hostd;
let haveUser = false;

function asUser(...args: string[]) {
  return spawnSync('runuser', ['-u', user, '--', process.execPath, resolve(root, 'bin/vpcctl.js'), ...args, '--socket', hostd.socket],
    { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' } });
}

before(async () => {
  hostd = await startHostd({ setEnv: false });
  const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  haveUser = true;
});

after(async () => {
  if (haveUser) spawnSync('userdel', [user]);
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
  const root = spawnSync(process.execPath, [resolve(process.cwd(), 'bin/vpcctl.js'), 'status', '--json', '--socket', hostd.socket], { encoding: 'utf8' });
  assert.equal(JSON.parse(root.stdout).objects, 0, 'nothing was created');
});
