// SPDX-License-Identifier: BSD-2-Clause
/**
 * Linux removes a TAP in ~16 ms but makes one in ~0.2 ms, so a client
 * churning vmnics can outrun the removal.  The daemon bounds the TAPs still
 * being removed (here lowered to 4 with a test-only knob): past it, giving
 * a vmnic a MAC says EAGAIN, changes nothing, and works again once the
 * backlog drains.  Without the bound the daemon ran out of descriptors for
 * handles (found by the soak).  The test holds the removals back (another
 * test-only knob: a file) rather than racing them, so it does not depend on
 * how fast the machine makes or removes TAPs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { listObjects, Nic, VpcTryAgainError } from '../src/vpc/index.ts';
import { startHostd, type Hostd } from './helpers/hostd.ts';
import { until } from './helpers/overlay.ts';
import { snapshot } from './helpers/state.ts';

let hostd: Hostd;
const holdDir = mkdtempSync(join(tmpdir(), 'vpc-tap-hold-'));
const hold = join(holdDir, 'hold-removals');
before(async () => { hostd = await startHostd({ env: { VPC_HOSTD_TAP_BACKLOG: '4', VPC_HOSTD_TAP_REAP_HOLD: hold } }); });
after(async () => {
  rmSync(holdDir, { recursive: true, force: true });
  await hostd.stop();
});

const mac = (i: number) => `02:ba:c0:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;

test('a vmnic MAC past the TAP removal backlog: EAGAIN, nothing changed, then it works', async () => {
  writeFileSync(hold, '');
  let refused: VpcTryAgainError | undefined;
  let made = 0;
  for (let i = 0; i < 20 && !refused; i++) {
    const nic = Nic.create(undefined, {});
    try {
      const before = snapshot();
      try {
        nic.setMac(mac(i));
      } catch (e) {
        if (!(e instanceof VpcTryAgainError)) throw e;
        refused = e;
        assert.deepEqual(snapshot(), before, 'the refused MAC changed nothing');
        break;
      }
      made++;
      nic.destroy();
    } finally {
      nic.close();
    }
  }
  assert.ok(refused, `EAGAIN came after ${made} vmnics`);
  assert.match(refused.message, /EAGAIN: .*try again shortly/);
  assert.equal(made, 4, 'exactly the backlog\'s worth was made first');

  // The backlog drains once the removals may go on, and the same call works.
  rmSync(hold);
  const nic = Nic.create(undefined, {});
  try {
    await until(() => {
      try {
        nic.setMac(mac(999));
        return true;
      } catch (e) {
        if (!(e instanceof VpcTryAgainError)) throw e;
        return false;
      }
    }, 'the backlog to drain');
    assert.equal(nic.mac(), mac(999));
  } finally {
    nic.close();
  }
  assert.equal(listObjects('vmnic').length, 0, 'nothing left over');
});
