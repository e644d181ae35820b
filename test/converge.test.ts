// SPDX-License-Identifier: BSD-2-Clause
/**
 * The harness bench/converge measures with, checked for correctness only
 * (no timing): two compute nodes with push-mode agents on a 3-member etcd;
 * VMs that live in the directory only are installed on both nodes before
 * any frame, and every move written through the directory API reaches both
 * nodes' CAMs with the write's revision; the entry's set time read back
 * from the kernel lies between the write's start and the poll that saw it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConvergeLab, type Mover, TTL_CLOCK_TICK_MS } from './helpers/converge-lab.ts';

const lab = new ConvergeLab({ nodes: 2 }, 'cg');
let movers: Mover[];

before(async () => {
  await lab.start();
  movers = await lab.addMovers(2);
  await lab.startAgents();
});

after(async () => {
  assert.deepEqual(await lab.close(), [], 'the daemons stopped cleanly');
});

describe('convergence harness: moves reach every node', () => {
  test('every mover is installed on every node before any frame (push)', async () => {
    for (const m of movers) {
      const arrivals = await lab.waitAll(m.mac, m.vtep);
      assert.equal(arrivals.length, 2);
    }
  });

  test('each move reaches both CAMs with the write\'s revision', async () => {
    for (let k = 0; k < 6; k++) {
      const m = movers[k % movers.length]!;
      const here = lab.names.findIndex((_, i) => lab.vtep(i) === m.vtep);
      const to = lab.vtep((here + 1) % 2);
      assert.notEqual(to, m.vtep, 'a move goes somewhere else');
      const r = await lab.move(m, to);
      for (let i = 0; i < 2; i++) {
        const e = await lab.camRead(i, m.mac);
        assert.equal(e.vtep, to, `cn${i + 1} forwards to the new VTEP`);
        assert.equal(e.revision, Number(r.revision), `cn${i + 1} holds the write's revision`);
        const a = r.nodes[i]!;
        // setMs is read off the entry's TTL, whose clock is vpc-hostd's coarse one.
        assert.ok(a.setMs >= r.startMs - 1 - TTL_CLOCK_TICK_MS && a.setMs <= a.seenMs,
          `cn${i + 1}: set (${a.setMs}) within [start ${r.startMs} (less a tick of the TTL clock), seen ${a.seenMs}]`);
      }
    }
  });
});
