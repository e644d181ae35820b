// SPDX-License-Identifier: BSD-2-Clause
/**
 * vpc-hostd at its descriptor limit (RLIMIT_NOFILE lowered to 64 for this
 * daemon): every handle is a descriptor in the daemon, so a client can use
 * them all up.  Then a new connection must not make the daemon spin on its
 * level-triggered listener (accept() failing with EMFILE, again and again):
 * it refuses the connection, saying why (EMFILE reaches the client), logs
 * once for the whole episode, counts what it refused, and uses no CPU while
 * it waits.  CPU time, not wall time, is measured.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { Switch, systemStats, VpcError } from '../src/vpc/index.ts';
import { startHostd, type Hostd } from './helpers/hostd.ts';
import { sleep, until } from './helpers/overlay.ts';
import { root, VPCCTL_TIMEOUT_MS } from './helpers/paths.ts';
import { stopProcess } from './helpers/proc.ts';
import { killOnExit } from './helpers/reaper.ts';

let hostd: Hostd;
const held: Switch[] = [];

before(async () => {
  hostd = await startHostd({ prefix: ['prlimit', '--nofile=64:64', '--'] });
});

after(async () => {
  for (const s of held.splice(0)) s.close();
  await hostd.stop();
});

/** Connections that connect and then sit there, as a slow or stuck client would (python: SEQPACKET/STREAM). */
function idleClients(path: string, type: 'SEQPACKET' | 'STREAM', n: number, seconds: number) {
  const code = `
import socket, sys, time
out = []
for i in range(${n}):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_${type})
    s.connect(sys.argv[1])
    out.append(s)
print('connected', flush=True)
if '${type}' == 'STREAM':
    hello = out[0].recv(16)
    print('hello-error', int.from_bytes(hello[8:12], 'little', signed=True), flush=True)
time.sleep(${seconds})
`;
  // They wait until the test SIGKILLs them (the reaper does if it fails first).
  const p = killOnExit(spawn('/usr/bin/python3', ['-c', code, path], { stdio: ['ignore', 'pipe', 'inherit'] }));
  let out = '';
  p.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  return { proc: p, out: () => out };
}

test('out of descriptors: new connections are refused with EMFILE, the daemon stays idle, logs once, counts', async (t) => {
  // Use up the daemon's descriptors with handles.
  let refusedWith: VpcError | undefined;
  for (let i = 0; i < 100 && !refusedWith; i++) {
    try {
      held.push(Switch.create());
    } catch (e) {
      if (!(e instanceof VpcError)) throw e;
      refusedWith = e;
    }
  }
  assert.ok(refusedWith, 'the daemon ran out of descriptors');
  assert.equal(refusedWith.code, 'EMFILE', refusedWith.message);

  // Clients knock while there are none: stuck ones on each listener (the
  // first of them may take the last descriptor a socketpair could not)...
  const cpu0 = hostd.cpuMs();
  const ctl = idleClients(hostd.socket, 'SEQPACKET', 3, 600);
  await until(() => ctl.out().includes('connected'), 'the clients to connect');
  const up = idleClients(hostd.upcallSocket, 'STREAM', 1, 600);
  await until(() => up.out().includes('hello-error'), 'the reader to connect');
  assert.match(up.out(), /hello-error 24\b/, 'the upcall reader is told EMFILE (FreeBSD numbering, as the ABI)');
  // ...and an operator's command, which is told why.
  const r = spawnSync(process.execPath, [resolve(root, 'bin/vpcctl.js'), 'switch', 'list', '--socket', hostd.socket], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^vpcctl: EMFILE: .*out of descriptors/m);
  // While they wait, the daemon does nothing: a spinning one burns a whole
  // core in this time (measured before the fix: ~100%).
  const cpu1 = hostd.cpuMs();
  await sleep(2000);
  const spent = hostd.cpuMs() - cpu1;
  t.diagnostic(`daemon CPU while clients waited at the limit: ${spent} ms in 2 s`);
  assert.ok(spent <= 200, `the daemon used ${spent} ms of CPU in 2 s of waiting (${hostd.cpuMs() - cpu0} ms since the limit)`);
  await Promise.all([ctl, up].map((c) => stopProcess(c.proc, 'SIGKILL', 'an idle client')));

  // One warning for the episode, however many were refused.
  const warnings = hostd.stderr().split('\n').filter((l) => /out of descriptors/.test(l));
  assert.equal(warnings.length, 1, hostd.stderr());

  // Descriptors free again: the episode ends (logged with its count) and
  // the count stays for the operator (vpcctl status, the agent's metrics).
  for (const s of held.splice(0, 10)) s.close();
  const stats = await (async () => {
    for (;;) {
      try {
        return systemStats();
      } catch (e) {
        // The first call may still meet a connection refused a moment ago.
        if (!(e instanceof VpcError) || e.code !== 'EMFILE') throw e;
        await sleep(50);
      }
    }
  })();
  assert.ok(stats.connRefused >= 2, `refusals counted (the reader, vpcctl, the stuck clients): ${stats.connRefused}`);
  await until(() => /descriptors available again: \d+ connection\(s\) refused/.test(hostd.stderr()), 'the end of the episode in the log');
  const st = JSON.parse(spawnSync(process.execPath, [resolve(root, 'bin/vpcctl.js'), 'status', '--json', '--socket', hostd.socket], { encoding: 'utf8', timeout: VPCCTL_TIMEOUT_MS }).stdout);
  assert.equal(st.connRefused, stats.connRefused);
});
