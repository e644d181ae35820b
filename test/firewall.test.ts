// SPDX-License-Identifier: BSD-2-Clause
/**
 * The port firewall with real TCP stacks on the host kernel: two compute
 * nodes, a VM on each, addresses resolved by the switch from the directory
 * (vpc-agent on each node), rule sets made and attached with vpcctl as an
 * operator would.
 *
 *  - an ingress set allowing TCP 22 and ICMP echo: port 22 is served, port
 *    23 gets nothing (the SYN is dropped and counted), ping works;
 *  - an outbound-only VM (an ingress set with no rule: inbound denied): its
 *    own connections out work (the replies pass by state), connections in
 *    get nothing;
 *  - a rule replace takes effect on the next connection; detaching the sets
 *    gives today's behaviour back;
 *  - UDP request/response through an egress-only set (the answer comes in
 *    by state, a datagram nobody asked for does not);
 *  - 1,000 connections one after another from 20 source ports, each port
 *    reused while its last flow is still closing (TIME_WAIT, opte#436).
 *
 * A denied connection is silence, so "denied" is "no answer within a few
 * seconds"; an allowed one waits as long as it needs.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startAgent, type AgentProc } from './helpers/agent.ts';
import { Overlay, type VmSpec } from './helpers/overlay.ts';
import { root } from './helpers/paths.ts';
import { killOnExit } from './helpers/reaper.ts';

const VNI = 480;
const vm1: VmSpec = { name: 'vm1', mac: '02:00:00:48:00:11', ip: '203.0.113.11' };
const vm2: VmSpec = { name: 'vm2', mac: '02:00:00:48:00:21', ip: '203.0.113.21' };
const portsPy = join(root, 'test', 'fixtures', 'tcpports.py');
/** How long a denied connection is given to stay silent. */
const DENIED_S = '3';

const ov = new Overlay('fw', VNI);
const agents: AgentProc[] = [];
const servers: ChildProcess[] = [];

function vpcctl(cn: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [resolve(root, 'bin/vpcctl.js'), ...args], { env: { ...process.env, ...ov.env(cn) }, encoding: 'utf8' });
  assert.equal(r.status, 0, `vpcctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** The id of the switch port that vm plugs into on node cn. */
function portOf(cn: string, vm: VmSpec): string {
  const ports = JSON.parse(vpcctl(cn, 'switch', 'port', 'list', ov.ids[cn]!.switch, '--json')) as Array<{ id: string; mac?: string }>;
  const p = ports.find((x) => x.mac === vm.mac);
  assert.ok(p, `no port with ${vm.mac}: ${JSON.stringify(ports)}`);
  return p.id;
}

/** TCP servers on these ports inside the VM, until the test ends. */
async function serve(vm: VmSpec, ports: number[], mode = 'serve'): Promise<void> {
  const p = killOnExit(spawn('ip', ['netns', 'exec', ov.lab.ns(vm.name), 'python3', portsPy, mode, ...ports.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] }));
  servers.push(p);
  await new Promise<void>((res, rej) => {
    p.stdout!.setEncoding('utf8').on('data', (d: string) => { if (d.includes('ready')) res(); });
    p.once('exit', (code) => rej(new Error(`server exited ${code}`)));
  });
}

/** "open", "closed" or "silent". */
function tryPort(from: VmSpec, to: VmSpec, port: number, seconds = '60'): string {
  return ov.lab.run('python3', [portsPy, 'try', to.ip!, String(port), seconds], { ns: from.name }).stdout.trim();
}

async function swstats(cn: string): Promise<Record<string, number>> {
  return ((await ov.node[cn]!.call('stats')) as { switch: Record<string, number> }).switch;
}

before(async () => {
  await ov.addNode('cn1');
  await ov.addNode('cn2');
  await ov.setup('cn1', [vm1], { subnets: ['203.0.113.0/24'], addresses: true });
  await ov.setup('cn2', [vm2], { subnets: ['203.0.113.0/24'], addresses: true });
  const file = join(ov.tmp, 'mappings.json');
  writeFileSync(file, JSON.stringify({ version: 1, mappings: [
    { vni: VNI, mac: vm1.mac, vtep: ov.vtep('cn1'), ip: vm1.ip }, { vni: VNI, mac: vm2.mac, vtep: ov.vtep('cn2'), ip: vm2.ip }] }));
  for (const cn of ['cn1', 'cn2']) agents.push(await startAgent(['--resolver', 'file', '--mappings', file], ov.env(cn)));
  await serve(vm1, [80]);
  await serve(vm2, [22, 23]);
  await serve(vm1, [5353], 'udpserve');
  await serve(vm2, [5353], 'udpserve');
});

after(async () => {
  for (const s of servers) s.kill('SIGKILL');
  for (const a of agents) await a.stop('SIGKILL');
  assert.deepEqual(await ov.close(), [], 'the daemons stopped cleanly');
});

describe('port firewall, real TCP across two nodes', () => {
  test('without a set: every port answers', () => {
    assert.equal(tryPort(vm1, vm2, 22), 'open');
    assert.equal(tryPort(vm1, vm2, 23), 'open');
    assert.equal(tryPort(vm2, vm1, 80), 'open');
  });

  test('an ingress set: TCP 22 and echo allowed, port 23 gets nothing and is counted', async () => {
    vpcctl('cn2', 'fw', 'create', '10');
    vpcctl('cn2', 'fw', 'rules', '10', 'in allow tcp port 22', 'in allow icmp type 8');
    vpcctl('cn2', 'fw', 'attach', ov.ids.cn2!.switch, portOf('cn2', vm2), '--ingress', '10');
    const s0 = await swstats('cn2');
    assert.equal(tryPort(vm1, vm2, 22), 'open');
    assert.equal(tryPort(vm1, vm2, 23, DENIED_S), 'silent');
    assert.ok(ov.ping('vm1', vm2.ip!), 'echo allowed by rule');
    const s1 = await swstats('cn2');
    assert.ok(s1.fwDeny! > s0.fwDeny!, `the SYN to 23 counted: ${s0.fwDeny} -> ${s1.fwDeny}`);
    const rules = JSON.parse(vpcctl('cn2', 'fw', 'show', '10', '--json')) as Array<{ text: string; hits: number }>;
    assert.ok(rules.find((r) => r.text.includes('port 22'))!.hits >= 1, JSON.stringify(rules));
    // vm2's own connection out is allowed (no egress set), its reply passes by state.
    assert.equal(tryPort(vm2, vm1, 80), 'open');
  });

  test('a rule replace applies to the next connection', () => {
    vpcctl('cn2', 'fw', 'rules', '10', 'in allow tcp port 23');
    assert.equal(tryPort(vm1, vm2, 23), 'open');
    assert.equal(tryPort(vm1, vm2, 22, DENIED_S), 'silent');
  });

  test('outbound only: an ingress set with no rule; out works, in gets nothing', () => {
    vpcctl('cn1', 'fw', 'create', '20');
    vpcctl('cn1', 'fw', 'attach', ov.ids.cn1!.switch, portOf('cn1', vm1), '--ingress', '20');
    assert.equal(tryPort(vm1, vm2, 23), 'open', 'out, and its replies in');
    assert.equal(tryPort(vm2, vm1, 80, DENIED_S), 'silent', 'in');
  });

  test('1,000 connections from 20 source ports, each reused while its last flow closes: all served', async () => {
    // vm1 -> vm2:23 through vm2's ingress set 10 (allow tcp 23 since the replace).
    const s0 = await swstats('cn2');
    const r = ov.lab.run('python3', [portsPy, 'many', vm2.ip!, '23', '1000', '41000', '41019'], { ns: 'vm1', timeoutMs: 600_000 });
    assert.equal(r.stdout.trim(), '1000', r.stderr);
    const s1 = await swstats('cn2');
    assert.equal(s1.fwInvalid, s0.fwInvalid, 'no SYN taken for an invalid packet of the closing flow');
    assert.equal(s1.fwTableFull, s0.fwTableFull);
  });

  test('UDP through an egress-only set: the answer comes back by state, an unasked datagram does not', () => {
    vpcctl('cn2', 'fw', 'attach', ov.ids.cn2!.switch, portOf('cn2', vm2));    // vm2 unfiltered: only vm1's set decides
    vpcctl('cn1', 'fw', 'attach', ov.ids.cn1!.switch, portOf('cn1', vm1));
    vpcctl('cn1', 'fw', 'rules', '20', 'out allow udp port 5353');
    vpcctl('cn1', 'fw', 'attach', ov.ids.cn1!.switch, portOf('cn1', vm1), '--egress', '20');
    assert.equal(ov.lab.run('python3', [portsPy, 'udptry', vm2.ip!, '5353', '60'], { ns: 'vm1', timeoutMs: 120_000 }).stdout.trim(), 'answered');
    assert.equal(ov.lab.run('python3', [portsPy, 'udptry', vm1.ip!, '5353', DENIED_S], { ns: 'vm2' }).stdout.trim(), 'silent');
  });

  test('detached, the ports answer again', () => {
    vpcctl('cn1', 'fw', 'attach', ov.ids.cn1!.switch, portOf('cn1', vm1));
    vpcctl('cn2', 'fw', 'attach', ov.ids.cn2!.switch, portOf('cn2', vm2));
    assert.equal(tryPort(vm2, vm1, 80), 'open');
    assert.equal(tryPort(vm1, vm2, 22), 'open');
    vpcctl('cn1', 'fw', 'destroy', '20');
    vpcctl('cn2', 'fw', 'destroy', '10');
  });
});
