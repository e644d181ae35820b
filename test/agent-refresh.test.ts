// SPDX-License-Identifier: BSD-2-Clause
/**
 * The agent refreshes the entries frames use: an answered entry a frame
 * used, once past half its life, gets a fresh TTL from the directory at the
 * next refresh (every quarter of the TTL), read a page of the table at a
 * time.  Push mode off: a pushed entry is renewed by the pusher's resync
 * whether used or not, which would hide the refresh.
 *
 * The TTL (20 s) leaves the refresh (every 5 s) two chances or more between
 * half life and expiry; the test waits for the agent's count, not a time.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startAgent, type AgentProc } from './helpers/agent.ts';
import { Overlay, until } from './helpers/overlay.ts';

const VNI = 320;
const TTL_MS = 20_000;
const vm1 = { name: 'vm1', mac: '02:00:00:03:20:01', ip: '203.0.113.1' };
const far = '02:00:00:03:20:99';
const framesPy = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, 'fixtures', 'frames.py');

const ov = new Overlay('rf', VNI);
let agent: AgentProc;

function sendFar(): void {
  ov.lab.run('/usr/bin/python3', [framesPy, 'send', 'vm1', far, vm1.mac, '1'], { ns: 'vm1' });
}

const entry = async () => (await ov.node.cn1!.call('camGet', { mac: far })) as { vtep?: string; ttlMs?: number; used?: boolean; error?: string };

before(async () => {
  await ov.addNode('cn1');
  await ov.setup('cn1', [vm1]);
  const file = join(ov.tmp, 'mappings.json');
  writeFileSync(file, JSON.stringify({ version: 1, mappings: [{ vni: VNI, mac: far, vtep: '198.51.100.2' }] }));
  agent = await startAgent(['--resolver', 'file', '--mappings', file, '--ttl', String(TTL_MS), '--no-push'], ov.env('cn1'));
});

after(async () => {
  await agent?.stop('SIGKILL');
  assert.deepEqual(await ov.close(), []);
});

test('an entry a frame used gets a fresh TTL once past half its life', async () => {
  sendFar();
  await until(async () => (await entry()).vtep === '198.51.100.2', 'the answer');
  sendFar();      // forwarded by the entry: used
  await until(async () => (await entry()).used === true, 'the entry marked used');
  await until(async () => (await agent.metric('vpc_agent_entries_refreshed_total')) >= 1, 'a refresh', 60_000);
  const e = await entry();
  assert.equal(e.vtep, '198.51.100.2');
  assert.ok(e.ttlMs! > TTL_MS / 2, `a fresh TTL: ${e.ttlMs} ms left`);
});
