/**
 * Linux removes a TAP in ~16 ms but makes one in ~0.2 ms, so a client
 * churning vmnics can outrun the removal.  The daemon bounds the TAPs still
 * being removed (here lowered to 4 with a test-only knob): past it, giving
 * a vmnic a MAC says EAGAIN, changes nothing, and works again once the
 * backlog drains.  Without the bound the daemon ran out of descriptors for
 * handles (found by the soak).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { listObjects, Nic, VpcTryAgainError } from '../src/vpc/index.ts';
import { startHostd, type Hostd } from './helpers/hostd.ts';
import { snapshot } from './helpers/state.ts';

let hostd: Hostd;
before(async () => { hostd = await startHostd({ env: { VPC_HOSTD_TAP_BACKLOG: '4' } }); });
after(async () => { await hostd.stop(); });

const mac = (i: number) => `02:ba:c0:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;

test('a vmnic MAC past the TAP removal backlog: EAGAIN, nothing changed, then it works', async () => {
  let refused: VpcTryAgainError | undefined;
  let made = 0;
  for (let i = 0; i < 200 && !refused; i++) {
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
  assert.ok(made >= 4, `at least the backlog's worth was made first (${made})`);

  // The backlog drains (8 closers, ~16 ms each) and the same call works.
  const end = Date.now() + 10_000;
  const nic = Nic.create(undefined, {});
  try {
    for (;;) {
      try {
        nic.setMac(mac(999));
        break;
      } catch (e) {
        if (!(e instanceof VpcTryAgainError) || Date.now() > end) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    assert.equal(nic.mac(), mac(999));
  } finally {
    nic.close();
  }
  assert.equal(listObjects('vmnic').length, 0, 'nothing left over');
});
