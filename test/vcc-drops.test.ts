// SPDX-License-Identifier: BSD-2-Clause
/**
 * Every drop visible in a counter: datagrams Linux drops because the vcc's
 * receive socket is full never reach the core, yet `vpcctl vcc get` counts
 * them (rxSockDrops, from SO_RXQ_OVFL / SO_MEMINFO), beside the others.
 * The daemon is stopped (SIGSTOP) while a burst arrives, so its socket
 * overflows whatever the machine's speed; every datagram is then either
 * received or counted as dropped.  In a namespace of the test's own, on its
 * loopback.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { Vcc } from '../src/vpc/index.ts';
import { startHostd, type Hostd } from './helpers/hostd.ts';
import { Lab } from './helpers/lab.ts';
import { until } from './helpers/overlay.ts';
import { root, VPCCTL_TIMEOUT_MS } from './helpers/paths.ts';

const lab = new Lab('vd');
let hostd: Hostd;
let vcc: Vcc;
const SENT = 3000;

before(async () => {
  lab.addNs('n1');
  hostd = await startHostd({ netns: lab.ns('n1') });
  vcc = Vcc.create(undefined, { ipv4: '127.0.0.1' });
  vcc.commit();
});

after(async () => {
  try { process.kill(hostd.pid, 'SIGCONT'); } catch { /* gone */ }
  vcc?.close();
  await hostd.stop();
  await lab.cleanup();
});

const state = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0];

test('datagrams dropped from the full socket buffer are counted: rx + rxSockDrops = sent', async () => {
  assert.equal(vcc.stats().rxSockDrops, 0);
  process.kill(hostd.pid, 'SIGSTOP');
  await until(() => state(hostd.pid) === 'T', 'the daemon to stop');
  lab.run('/usr/bin/python3', ['-c', `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(${SENT}):
    s.sendto(bytes(1000), ('127.0.0.1', 4789))
`], { ns: 'n1' });
  process.kill(hostd.pid, 'SIGCONT');
  await until(() => {
    const s = vcc.stats();
    return s.rx! + s.rxSockDrops! === SENT;
  }, 'every datagram received or counted as dropped');
  const s = vcc.stats();
  assert.ok(s.rxSockDrops! > 0 && s.rx! > 0, JSON.stringify(s));
  assert.equal(s.rxBad, s.rx, 'what did arrive was no VXLAN (counted too)');

  const get = spawnSync(process.execPath, [resolve(root, 'bin/vpcctl.js'), 'vcc', 'get', vcc.id, '--json'], { encoding: 'utf8', timeout: VPCCTL_TIMEOUT_MS });
  assert.equal(get.status, 0, get.stderr);
  assert.equal(JSON.parse(get.stdout).stats.rxSockDrops, s.rxSockDrops);

  // The count survives new sockets (a reconfiguration).
  vcc.configure({ ipv4: '127.0.0.1', port: 4790 });
  assert.equal(vcc.stats().rxSockDrops, s.rxSockDrops);
});
