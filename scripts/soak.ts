// SPDX-License-Identifier: BSD-2-Clause
/**
 * npm run soak -- --minutes N: two compute nodes in namespaces with their
 * agents (node 1's answering misses, node 2's pushing, the default); traffic
 * between the VMs the whole time, miss storms over 1,000 mapped MACs every
 * few seconds on node 1; three client processes churning the control
 * plane on node 1 (one of them SIGKILLed half way and replaced, its
 * committed objects then found and removed as an orchestrator would).  At
 * the end: nothing crashed, no object or handle is left over, the
 * invariants hold, the counters add up, and memory is flat (daemon and
 * agent RSS printed, start and end).  Needs root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startAgent, type AgentProc } from '../test/helpers/agent.ts';
import { Overlay, sleep } from '../test/helpers/overlay.ts';
import { root } from '../test/helpers/paths.ts';
import { killOnExit } from '../test/helpers/reaper.ts';

const minutes = Number(process.argv[process.argv.indexOf('--minutes') + 1] ?? 2) || 2;
const VNI = 500;
const vm1 = { name: 'vm1', mac: '02:00:00:05:00:01', ip: '203.0.113.1' };
const vm2 = { name: 'vm2', mac: '02:00:00:05:00:02', ip: '203.0.113.2' };
const framesPy = resolve(root, 'test/fixtures/frames.py');
const churnTs = resolve(root, 'test/fixtures/churn.ts');

const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const problems: string[] = [];
const check = (ok: boolean, what: string) => {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) problems.push(what);
};

function churn(env: NodeJS.ProcessEnv, marker: number, seconds: number): { proc: ChildProcess; done: Promise<string> } {
  const proc = killOnExit(spawn(process.execPath, ['--import', 'tsx', churnTs, String(marker), String(seconds)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] }));
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  return { proc, done: new Promise((r) => proc.on('exit', () => r(out.trim()))) };
}

const ov = new Overlay('soak', VNI);
const agents: AgentProc[] = [];
try {
  console.log(`soak: ${minutes} minute(s)`);
  await ov.addNode('cn1');
  await ov.addNode('cn2');
  await ov.setup('cn1', [vm1]);
  await ov.setup('cn2', [vm2]);
  ov.neighbours('vm1', [vm2]);
  ov.neighbours('vm2', [vm1]);
  ov.lab.ip('vm1', 'link', 'set', 'vm1', 'txqueuelen', '10000');
  const storm = Array.from({ length: 1000 }, (_, i) => ({ vni: VNI, mac: `02:55:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`, vtep: ov.vtep('cn2') }));
  const file = join(ov.tmp, 'mappings.json');
  writeFileSync(file, JSON.stringify({ mappings: [{ vni: VNI, mac: vm1.mac, vtep: ov.vtep('cn1') }, { vni: VNI, mac: vm2.mac, vtep: ov.vtep('cn2') }, ...storm] }));
  // cn1 answers the miss storms (push mode off: pushed entries would leave nothing to miss, and
  // cn1's miss counters are checked below); cn2 runs the default, push, renewing its 1,002
  // entries every 1.25 s (a quarter of the TTL) the whole time.
  agents.push(await startAgent(['--mappings', file, '--ttl', '5000', '--no-push'], ov.env('cn1')));
  agents.push(await startAgent(['--mappings', file, '--ttl', '5000'], ov.env('cn2')));
  const base = (await ov.node.cn1!.call('stats')) as { system: { objects: number; handles: number } };
  await sleep(3000);
  const rss0 = [ov.hostd.cn1!.pid, ov.hostd.cn2!.pid, agents[0]!.proc.pid!, agents[1]!.proc.pid!].map(rssKiB);

  const secs = minutes * 60;
  const pinger = ov.lab.spawnIn('vm1', 'ping', ['-n', '-q', '-i', '0.1', '-w', String(secs), vm2.ip]);
  let pingOut = '';
  pinger.stdout!.setEncoding('utf8').on('data', (d: string) => { pingOut += d; });
  const env = ov.env('cn1');
  const clients = [0xc1, 0xc2, 0xc3].map((m) => churn(env, m, secs));
  const t0 = Date.now();
  let storms = 0;
  let killed = false;
  while (Date.now() - t0 < secs * 1000) {
    ov.lab.run('/usr/bin/python3', [framesPy, 'storm', 'vm1', vm1.mac, '02:55:00:00', '1000', '5000', '20000'], { ns: 'vm1', timeoutMs: 60_000 });
    storms++;
    if (!killed && Date.now() - t0 > secs * 500) {
      clients[1]!.proc.kill('SIGKILL');
      await clients[1]!.done;
      clients[1] = churn(env, 0xc2, Math.max(5, secs - (Date.now() - t0) / 1000));
      killed = true;
    }
    await sleep(2000);
  }
  const reports = await Promise.all(clients.map((c) => c.done));
  await new Promise((r) => (pinger.exitCode !== null ? r(null) : pinger.once('exit', r)));
  // The killed client's committed objects, found and removed as an orchestrator would.
  const cleanup = spawn(process.execPath, ['--import', 'tsx', churnTs, 'cleanup', String(0xc2)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let cleaned = '';
  cleanup.stdout!.setEncoding('utf8').on('data', (d: string) => { cleaned += d; });
  await new Promise((r) => cleanup.on('exit', r));
  await sleep(6000);  // entries expire (TTL 5 s), pending upcalls settle

  console.log('results:');
  for (const r of reports) console.log(`  client: ${r}`);
  console.log(`  after the kill: ${cleaned.trim()}; ${storms} storms of 5,000 frames`);
  console.log(`  ping: ${/(\d+ packets transmitted.*)/.exec(pingOut)?.[1] ?? pingOut.trim()}`);
  const rss1 = [ov.hostd.cn1!.pid, ov.hostd.cn2!.pid, agents[0]!.proc.pid!, agents[1]!.proc.pid!].map(rssKiB);
  ['vpc-hostd cn1', 'vpc-hostd cn2', 'vpc-agent cn1', 'vpc-agent cn2'].forEach((n, i) => console.log(`  RSS ${n}: ${rss0[i]} KiB -> ${rss1[i]} KiB`));

  const end = (await ov.node.cn1!.call('stats')) as { switch: Record<string, number>; upcalls: Record<string, number>; system: { objects: number; handles: number } };
  const s = end.switch;
  check(ov.hostd.cn1!.proc.exitCode === null && ov.hostd.cn2!.proc.exitCode === null, 'no daemon crashed');
  check(agents.every((a) => a.proc.exitCode === null), 'no agent crashed');
  check(end.system.objects === base.system.objects, `no object left over (${end.system.objects} vs ${base.system.objects})`);
  check(end.system.handles === base.system.handles, `no handle left over (${end.system.handles} vs ${base.system.handles})`);
  for (const cn of ['cn1', 'cn2']) {
    const inv = (await ov.node[cn]!.call('check')) as { ok: boolean; checks: number; why?: string };
    check(inv.ok, `${cn}: ${inv.checks} invariants hold${inv.why ? `: ${inv.why}` : ''}`);
  }
  check(s.misses === s.held! + s.holdDrops! + s.lost!, `every miss held, hold-dropped or lost: ${s.misses} = ${s.held} + ${s.holdDrops} + ${s.lost}`);
  check(s.held === s.released! + s.heldDropped! + end.upcalls.held!, `every held frame released, dropped or still held: ${s.held} = ${s.released} + ${s.heldDropped} + ${end.upcalls.held}`);
  check(s.upcalls === s.answers! + s.timeouts! + end.upcalls.pending!, `every upcall answered, timed out or pending: ${s.upcalls} = ${s.answers} + ${s.timeouts} + ${end.upcalls.pending}`);
  check(rss1.every((r, i) => r < rss0[i]! * 1.5 + 16 * 1024), 'memory flat (within 50% + 16 MiB of the start)');
} finally {
  for (const a of agents) await a.stop().catch(() => {});
  const errors = await ov.close();
  for (const e of errors) problems.push(e);
}
console.log(problems.length === 0 ? 'soak: all good' : `soak: ${problems.length} problem(s)`);
process.exit(problems.length === 0 ? 0 : 1);
