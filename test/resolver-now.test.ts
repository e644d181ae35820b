// SPDX-License-Identifier: BSD-2-Clause
/**
 * Resolver.resolveNow, the installer's path for a burst of misses, gives
 * exactly what resolve() gives: a mapping, null for a MAC the directory
 * does not have, whatever the MAC's case or separator; and for the file
 * resolver, the same after a reload.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { FileResolver } from '../src/agent/file-resolver.ts';

const VNI = 4242;
const known = '02:aa:00:00:00:01';
const dir = mkdtempSync(join(tmpdir(), 'vpc-resolver-now-'));
const file = join(dir, 'mappings.json');
const write = (vtep: string) =>
  writeFileSync(file, JSON.stringify({ version: 1, mappings: [{ vni: VNI, mac: known, vtep }] }));

describe('resolveNow answers as resolve() does', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the file resolver, before and after a reload', async () => {
    write('198.51.100.7');
    const r = new FileResolver(file, pino({ level: 'silent' }));
    await r.start();
    try {
      assert.ok(r.resolveNow);
      for (const [vni, mac] of [[VNI, known], [VNI, known.toUpperCase()], [VNI, known.replaceAll(':', '-')],
        [VNI, '02:aa:00:00:00:02'], [VNI + 1, known], [VNI, 'not a mac']] as const) {
        const now = r.resolveNow(vni, mac);
        assert.deepEqual(now, await r.resolve(vni, mac), `${vni} ${mac}`);
      }
      assert.equal(r.resolveNow(VNI, known)?.vtep, '198.51.100.7');
      assert.equal(r.resolveNow(VNI, '02:aa:00:00:00:02'), null);
      write('198.51.100.8');
      assert.equal(await r.reload('test'), true);
      assert.equal(r.resolveNow(VNI, known)?.vtep, '198.51.100.8');
      assert.deepEqual(r.resolveNow(VNI, known), await r.resolve(VNI, known));
    } finally {
      await r.close();
    }
  });
});
