// SPDX-License-Identifier: BSD-2-Clause
/**
 * Transactions across processes: two clients, each its own process and its
 * own connection to vpc-hostd, on one switch.  A token goes stale when the
 * other process changes the switch; the seed's retry loop converges.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { newId, Switch } from '../src/vpc/index.ts';
import { startClient, type Client } from './helpers/client.ts';
import { startKernel, type Kernel } from './helpers/hostd.ts';

let kernel: Kernel;
let a: Client;
let b: Client;

before(async () => {
  kernel = await startKernel();
  a = await startClient();
  b = await startClient();
});
after(async () => {
  await a.call('exit').catch(() => {});
  await b.call('exit').catch(() => {});
  await kernel.stop();
});

test('ESTALE when another process changed the object; own changes keep the token', async () => {
  const sw = newId();
  await a.call('create', { sw, commit: true });
  await b.call('open', { sw });
  const ta = await a.call('txn', { sw });
  const tb = await b.call('txn', { sw });
  await b.call('addPort', { sw, txn: tb, port: newId() });         // B changes the switch
  await b.call('addPort', { sw, txn: tb, port: newId() });         // ... twice, under its own token
  await assert.rejects(a.call('addPort', { sw, txn: ta, port: newId() }), { code: 'ESTALE' });
  const ta2 = await a.call('txn', { sw });                          // the retry
  await a.call('addPort', { sw, txn: ta2, port: newId() });
  await assert.rejects(b.call('addPort', { sw, txn: tb, port: newId() }), { code: 'ESTALE' });
  const s = Switch.open(sw);
  assert.equal(s.portCount().ports, 3);
  s.destroy();
  s.close();
});

test('two processes racing the retry loop converge: every port added exactly once', async (t) => {
  const sw = newId();
  await a.call('create', { sw, commit: true });
  await b.call('open', { sw });
  const portsA = Array.from({ length: 60 }, () => newId());
  const portsB = Array.from({ length: 60 }, () => newId());
  const [retriesA, retriesB] = await Promise.all([
    a.call('addPorts', { sw, ports: portsA }),
    b.call('addPorts', { sw, ports: portsB }),
  ]) as [number, number];
  const s = Switch.open(sw);
  const ids = new Set(s.ports().map((p) => p.id));
  assert.equal(ids.size, 120);
  for (const p of [...portsA, ...portsB]) assert.ok(ids.has(p), `port ${p} missing`);
  s.destroy();
  s.close();
  // Informational: how often the loop had to start over.
  t.diagnostic(`retries: ${retriesA} + ${retriesB}`);
});
