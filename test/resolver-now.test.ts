// SPDX-License-Identifier: BSD-2-Clause
/**
 * Resolver.resolveNow, the installer's path for a burst of misses, gives
 * exactly what resolve() gives: a mapping, null for a MAC the directory
 * does not have, whatever the MAC's case or separator; and for the file
 * resolver, the same after a reload.  resolveTarget, by the MAC's words
 * as an upcall record holds them, gives resolve()'s vtep, port and
 * revision.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { FileResolver } from '../src/agent/file-resolver.ts';
import type { Mapping } from '../src/directory/index.ts';

const VNI = 4242;
const known = '02:aa:00:00:00:01';
const dir = mkdtempSync(join(tmpdir(), 'vpc-resolver-now-'));
const file = join(dir, 'mappings.json');
const withPort = '02:aa:00:00:00:03';
const write = (vtep: string) =>
  writeFileSync(file, JSON.stringify({ version: 1, mappings: [{ vni: VNI, mac: known, vtep }, { vni: VNI, mac: withPort, vtep, port: 4790 }] }));
/** A MAC as the two words an upcall record's destination is read as (UpcallBatch.macHi/macLo). */
const words = (mac: string): [number, number] => {
  const b = Buffer.from(mac.replaceAll(':', ''), 'hex');
  return [b.readUInt32BE(0), (b.readUInt16BE(4) << 16) >>> 0];
};
/** What resolveTarget() should say: resolve()'s vtep, port and revision. */
const targetOf = (m: Mapping | null | undefined) =>
  (m ? { vtep: m.vtep, revision: m.revision, ...(m.port !== undefined ? { port: m.port } : {}) } : m);

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
      const targets = async () => {
        assert.ok(r.resolveTarget);
        for (const [vni, mac] of [[VNI, known], [VNI, withPort], [VNI, '02:aa:00:00:00:02'], [VNI + 1, known]] as const) {
          assert.deepEqual(r.resolveTarget(vni, ...words(mac)), targetOf(await r.resolve(vni, mac)), `target ${vni} ${mac}`);
        }
      };
      await targets();
      assert.equal(r.resolveTarget!(VNI, ...words(withPort))?.port, 4790);
      write('198.51.100.8');
      assert.equal(await r.reload('test'), true);
      assert.equal(r.resolveNow(VNI, known)?.vtep, '198.51.100.8');
      assert.deepEqual(r.resolveNow(VNI, known), await r.resolve(VNI, known));
      await targets();
      assert.equal(r.resolveTarget!(VNI, ...words(known))?.vtep, '198.51.100.8');
    } finally {
      await r.close();
    }
  });
});
