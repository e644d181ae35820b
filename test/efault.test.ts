// SPDX-License-Identifier: BSD-2-Clause
/**
 * An error must mean nothing happened, EFAULT included: libvpc refuses a
 * call whose *vallen or value buffer cannot be written before the daemon
 * applies anything (kmod/tests/unit/test_libvpc_efault.c, a C program,
 * because TypeScript cannot hand the kernel a read-only or half-unmapped
 * buffer).  The FreeBSD boot test runs the same rows on the real syscall.
 * Then every copy-in and copy-out of the router's ops (96-105) and the
 * firewall's (112-123): a key running into an unmapped page, a read-only
 * value buffer; each EFAULT with the state read back unchanged.
 * An op that changes nothing is not probed (as on FreeBSD): the kernel finds
 * a read-only or unmapped *vallen or value as the request and the reply
 * cross them, EFAULT, and the handle's next call still gets its own answer.
 * Then what libvpc's checks rest on: a value over a page (the slow check),
 * its probe pipe closed and the number reused by the program (never written
 * to), a child after fork().
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { startHostd } from './helpers/hostd.ts';
import { buildDir } from './helpers/paths.ts';

test('EFAULT before the op: NULL, read-only and half-unmapped buffers change nothing (switch, router, firewall ops)', async () => {
  const d = await startHostd({ setEnv: false });
  try {
    const r = spawnSync(join(buildDir, 'test_libvpc_efault'), [], {
      encoding: 'utf8', env: { ...process.env, VPC_HOSTD_SOCKET: d.socket }, timeout: 30_000,
    });
    const failures = r.stdout.split('\n').filter((l) => l.startsWith('not ok'));
    assert.deepEqual(failures, [], r.stdout + r.stderr);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\b103 passed, 0 failed/);
  } finally {
    await d.stop();
  }
});
