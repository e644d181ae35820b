// SPDX-License-Identifier: BSD-2-Clause
/**
 * Object lifetime across processes: what a crashed orchestrator leaves
 * behind (nothing uncommitted), and that handles cost nothing once closed.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { listObjects, newId, Nic, Switch, systemStats, VpcRemovedError } from '../src/vpc/index.ts';
import { startClient } from './helpers/client.ts';
import { startHostd, type Hostd } from './helpers/hostd.ts';

let hostd: Hostd;
// ASan keeps freed memory in a quarantine to catch use-after-free; that
// would look like growth to the RSS check below, so this daemon runs without.
before(async () => { hostd = await startHostd({ env: { ASAN_OPTIONS: 'quarantine_size_mb=0' } }); });
after(async () => { await hostd.stop(); });

async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a client killed with SIGKILL: its uncommitted objects are gone, committed ones stay', async () => {
  const c = await startClient();
  const kept = newId();
  const lost = newId();
  await c.call('create', { sw: kept, commit: true });
  await c.call('create', { sw: lost, commit: false });
  const ids = () => new Set(listObjects('switch').map((o) => o.id));
  assert.ok(ids().has(kept) && ids().has(lost));
  await c.kill('SIGKILL');
  await until(() => !ids().has(lost), 'the uncommitted switch to go');
  assert.ok(ids().has(kept), 'the committed switch stays');
  const sw = Switch.open(kept);
  assert.equal(sw.info().handles, 1, 'only our handle: the dead process holds none');
  sw.destroy();
  sw.close();
});

test('a switch destroyed under another handle: that handle gets EIDRM', () => {
  const sw = Switch.create();
  sw.commit();
  const other = Switch.open(sw.id);
  sw.destroy();
  assert.throws(() => other.portCount(), VpcRemovedError);
  other.close();
  sw.close();
});

test('an uncommitted vmnic plugged into a committed switch takes its port along when its handle closes', () => {
  const sw = Switch.create(newId(), { vni: 7 });
  sw.commit();
  const nic = Nic.create(newId(), { mac: '02:00:00:00:07:01' });
  sw.addPort({ kind: 'vmnic', nic: nic.id });
  assert.equal(sw.portCount().ports, 1);
  nic.close();
  assert.equal(sw.portCount().ports, 0, 'no port left pointing at nothing');
  sw.destroy();
  sw.close();
});

/**
 * Frees go through the (host kernel's) epoch: they land after the batch
 * that dropped the last reference.  Read until two reads agree.
 */
function settledStats(): ReturnType<typeof systemStats> {
  let prev = systemStats();
  for (let i = 0; i < 50; i++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    const cur = systemStats();
    if (cur.memBytes === prev.memBytes && cur.handles === prev.handles) return cur;
    prev = cur;
  }
  return prev;
}

test('10,000 open/close cycles leave no object, handle or byte behind', (t) => {
  const base = settledStats();
  const rss0 = hostd.rssKiB();
  const fds0 = readdirSync(`/proc/${hostd.pid}/fd`).length;
  for (let i = 0; i < 10_000; i++) {
    const sw = Switch.create();
    if (i % 2 === 0) sw.addPort({ kind: 'vmnic', descriptor: true }).nic?.close();
    sw.close();
  }
  const end = settledStats();
  const rss1 = hostd.rssKiB();
  t.diagnostic(`daemon RSS ${rss0} KiB -> ${rss1} KiB; core ${base.memBytes} -> ${end.memBytes} bytes`);
  assert.equal(end.objects, base.objects);
  assert.equal(end.handles, base.handles);
  assert.equal(end.memBytes, base.memBytes, 'the core allocates nothing it does not free');
  assert.equal(end.memAllocs, base.memAllocs);
  assert.ok(rss1 - rss0 < 4096, `daemon RSS grew by ${rss1 - rss0} KiB`);
  assert.equal(readdirSync(`/proc/${hostd.pid}/fd`).length, fds0, 'the daemon holds no descriptor more');
});
