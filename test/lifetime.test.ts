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
before(async () => { hostd = await startHostd(); });
after(async () => { await hostd.stop(); });

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
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

test('10,000 open/close cycles leave no object, handle or byte behind', (t) => {
  const base = systemStats();
  const rss0 = hostd.rssKiB();
  const fds0 = readdirSync(`/proc/${hostd.pid}/fd`).length;
  for (let i = 0; i < 10_000; i++) {
    const sw = Switch.create();
    if (i % 2 === 0) sw.addPort({ kind: 'vmnic', descriptor: true }).nic?.close();
    sw.close();
  }
  // Frees go through the (host kernel's) epoch: they land after the batch
  // that dropped the last reference, so give the daemon a moment to settle.
  let end = systemStats();
  for (let i = 0; i < 50 && end.memBytes !== base.memBytes; i++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    end = systemStats();
  }
  const rss1 = hostd.rssKiB();
  t.diagnostic(`daemon RSS ${rss0} KiB -> ${rss1} KiB; core ${base.memBytes} -> ${end.memBytes} bytes`);
  assert.equal(end.objects, base.objects);
  assert.equal(end.handles, base.handles);
  assert.equal(end.memBytes, base.memBytes, 'the core allocates nothing it does not free');
  assert.equal(end.memAllocs, base.memAllocs);
  assert.ok(rss1 - rss0 < 4096, `daemon RSS grew by ${rss1 - rss0} KiB`);
  assert.equal(readdirSync(`/proc/${hostd.pid}/fd`).length, fds0, 'the daemon holds no descriptor more');
});
