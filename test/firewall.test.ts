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
 *    by state, a datagram nobody asked for does not; a 4,000-byte one, in
 *    fragments, passes whole both ways);
 *  - 1,000 connections one after another from 20 source ports, each port
 *    reused while its last flow is still closing (TIME_WAIT, opte#436);
 *  - a rule replace under a live transfer (a paced sender: a chunk, then
 *    its answer): by default the next packet is judged again and the
 *    transfer stops (that chunk never arrives, the retransmissions are
 *    counted as invalid); with keepEstablished it completes byte for byte;
 *  - a SYN flood crafted with scapy from vm3 (a VM namespace on cn1 with no
 *    address of its own, so its stack never resets the SYN-ACKs) to a denied
 *    and to an allowed port of vm2: every SYN is counted once (fwDeny, or
 *    fwFlowsNew + fwTableFull), the port's table stops at its limit, the
 *    incipient flows go by the incipient timer, and a connection opened
 *    before the flood works throughout;
 *  - ICMP echo denied by a rule and by the absence of one while the other
 *    VM's echo is allowed; traceroute's ICMP errors pass for the probes'
 *    flow, an error quoting no flow does not.
 *
 * A denied connection is silence, so "denied" is "no answer within a few
 * seconds"; an allowed one waits as long as it needs.  Floods are sent in
 * batches, each accounted for by the counters before the next: nothing
 * depends on how fast the machine is.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startAgent, type AgentProc } from './helpers/agent.ts';
import { Overlay, until, type VmSpec } from './helpers/overlay.ts';
import { root, VPCCTL_TIMEOUT_MS } from './helpers/paths.ts';
import { killOnExit } from './helpers/reaper.ts';

const VNI = 480;
const vm1: VmSpec = { name: 'vm1', mac: '02:00:00:48:00:11', ip: '203.0.113.11' };
const vm2: VmSpec = { name: 'vm2', mac: '02:00:00:48:00:21', ip: '203.0.113.21' };
/** The flooder: its vmnic has the address (anti-spoofing, ARP), its namespace does not. */
const vm3: VmSpec = { name: 'vm3', mac: '02:00:00:48:00:13', ip: '203.0.113.13' };
const portsPy = join(root, 'test', 'fixtures', 'tcpports.py');
const floodPy = join(root, 'test', 'fixtures', 'fwflood.py');
/** How long a denied connection is given to stay silent. */
const DENIED_S = '3';

const ov = new Overlay('fw', VNI);
const agents: AgentProc[] = [];
const servers: ChildProcess[] = [];

function vpcctl(cn: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [resolve(root, 'bin/vpcctl.js'), ...args], { env: { ...process.env, ...ov.env(cn) }, encoding: 'utf8', timeout: VPCCTL_TIMEOUT_MS });
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

/** A's counters minus b's, for these names. */
function delta(a: Record<string, number>, b: Record<string, number>, names: string[]): Record<string, number> {
  return Object.fromEntries(names.map((n) => [n, a[n]! - b[n]!]));
}

/** A process in a VM namespace driven by lines: write a command, wait for the line it answers. */
class Driven {
  readonly lines: string[] = [];
  readonly err: string[] = [];
  #exit: number | null | undefined;

  constructor(readonly proc: ChildProcess, readonly what: string) {
    let part = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      const all = (part + d).split('\n');
      part = all.pop()!;
      this.lines.push(...all);
    });
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => this.err.push(d));
    proc.once('exit', (code) => { this.#exit = code; });
  }

  /** Killed at the end of the test file at the latest (after() and the exit handler). */
  static in(vm: VmSpec, cmd: string, args: string[], what: string): Driven {
    const p = killOnExit(spawn('ip', ['netns', 'exec', ov.lab.ns(vm.name), cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }));
    servers.push(p);
    return new Driven(p, what);
  }

  send(line: string): void {
    this.proc.stdin!.write(`${line}\n`);
  }

  /** Wait for a line that matches (generous deadline: only a hang fails it). */
  async line(want: string | RegExp, ms = 120_000): Promise<string> {
    let found: string | undefined;
    await until(() => {
      found = this.lines.find((l) => (typeof want === 'string' ? l === want : want.test(l)));
      if (found === undefined && this.#exit !== undefined) throw new Error(`${this.what} exited ${this.#exit} before '${String(want)}': ${this.lines.join('|')} ${this.err.join('')}`);
      return found !== undefined;
    }, `${this.what}: '${String(want)}' (${this.lines.join('|')}) ${this.err.join('')}`, ms);
    return found!;
  }

  stop(): void {
    if (this.#exit === undefined) this.proc.kill('SIGKILL');
  }
}

before(async () => {
  await ov.addNode('cn1');
  await ov.addNode('cn2');
  await ov.setup('cn1', [vm1, vm3], { subnets: ['203.0.113.0/24'], addresses: true });
  ov.lab.ip('vm3', 'addr', 'flush', 'dev', 'vm3');
  await ov.setup('cn2', [vm2], { subnets: ['203.0.113.0/24'], addresses: true });
  const file = join(ov.tmp, 'mappings.json');
  writeFileSync(file, JSON.stringify({ version: 1, mappings: [
    { vni: VNI, mac: vm1.mac, vtep: ov.vtep('cn1'), ip: vm1.ip }, { vni: VNI, mac: vm2.mac, vtep: ov.vtep('cn2'), ip: vm2.ip },
    { vni: VNI, mac: vm3.mac, vtep: ov.vtep('cn1'), ip: vm3.ip }] }));
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

  test('UDP through an egress-only set: the answer comes back by state, an unasked datagram does not, a fragmented one passes whole', async () => {
    vpcctl('cn2', 'fw', 'attach', ov.ids.cn2!.switch, portOf('cn2', vm2));    // vm2 unfiltered: only vm1's set decides
    vpcctl('cn1', 'fw', 'attach', ov.ids.cn1!.switch, portOf('cn1', vm1));
    vpcctl('cn1', 'fw', 'rules', '20', 'out allow udp port 5353');
    vpcctl('cn1', 'fw', 'attach', ov.ids.cn1!.switch, portOf('cn1', vm1), '--egress', '20');
    assert.equal(ov.lab.run('python3', [portsPy, 'udptry', vm2.ip!, '5353', '60'], { ns: 'vm1', timeoutMs: 120_000 }).stdout.trim(), 'answered');
    assert.equal(ov.lab.run('python3', [portsPy, 'udptry', vm1.ip!, '5353', DENIED_S], { ns: 'vm2' }).stdout.trim(), 'silent');
    // A 4,000-byte datagram each way (three fragments at MTU 1450): judged
    // by its first fragment, the later ones follow (vpc_fragmem.c).
    const inv = (await swstats('cn1')).fwInvalid;
    assert.equal(ov.lab.run('python3', [portsPy, 'udptry', vm2.ip!, '5353', '60', '4000'], { ns: 'vm1', timeoutMs: 120_000 }).stdout.trim(), 'answered');
    assert.equal((await swstats('cn1')).fwInvalid, inv, 'no fragment taken for invalid');
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

/** A vmnic port's flows now (expired ones are not listed). */
function flowsOf(cn: string, vm: VmSpec): Array<{ proto: number; state?: string; localPort: number; remoteIp: string }> {
  return JSON.parse(vpcctl(cn, 'fw', 'flows', ov.ids[cn]!.switch, portOf(cn, vm), '--json')) as Array<{ proto: number; state?: string; localPort: number; remoteIp: string }>;
}

/** A paced transfer vm1 -> vm2:port: the receiver, and the sender connected. */
async function pacedPair(port: number, size: number, seed: number): Promise<{ srv: Driven; cli: Driven }> {
  const srv = Driven.in(vm2, 'python3', [portsPy, 'pserve', String(port)], `receiver :${port}`);
  await srv.line('ready');
  const cli = Driven.in(vm1, 'python3', [portsPy, 'psend', vm2.ip!, String(port), String(size), String(seed)], `sender :${port}`);
  await cli.line('connected');
  return { srv, cli };
}

/** The next chunk, answered. */
async function chunk(cli: Driven, k: number): Promise<void> {
  cli.send('send 60');
  const l = await cli.line(new RegExp(`^(acked|noack) ${k}$`));
  assert.equal(l, `acked ${k}`);
}

const FW = ['fwDeny', 'fwInvalid', 'fwTableFull', 'fwFlowsNew'];

/** Until no socket in the VM that could still send uses the port (LISTEN and TIME-WAIT send nothing). */
async function socketsGone(vm: VmSpec, port: number): Promise<void> {
  await until(() => ov.lab.run('ss', ['-Htan'], { ns: vm.name }).stdout.split('\n')
    .filter((l) => !/^(LISTEN|TIME-WAIT)/.test(l) && new RegExp(`:${port}(\\s|$)`).test(l)).length === 0, `${vm.name}'s sockets on ${port} closed`);
}

describe('port firewall under load and change', () => {
  test('rule replace under a live transfer: judged again on the next packet, the transfer stops', async () => {
    vpcctl('cn2', 'fw', 'create', '30');
    vpcctl('cn2', 'fw', 'rules', '30', 'in allow tcp port 2201');
    vpcctl('cn2', 'fw', 'attach', ov.ids.cn2!.switch, portOf('cn2', vm2), '--ingress', '30');
    const { srv, cli } = await pacedPair(2201, 32768, 7);
    try {
      for (let k = 1; k <= 4; k++) await chunk(cli, k);
      assert.equal(flowsOf('cn2', vm2).filter((f) => f.localPort === 2201 && f.state === 'established').length, 1);
      const s0 = await swstats('cn2');
      vpcctl('cn2', 'fw', 'rules', '30', 'in allow tcp port 2202');        // 2201 is no longer allowed
      cli.send(`send ${DENIED_S}`);
      // The sender keeps trying (TCP retransmits; each finds no flow and is
      // no SYN: invalid) while chunk 5 never arrives and is never answered.
      await until(async () => (await swstats('cn2')).fwInvalid! >= s0.fwInvalid! + 2, 'the sender retransmitting');
      assert.equal(await cli.line(/^(acked|noack) 5$/), 'noack 5');
      assert.ok(!srv.lines.includes('got 5'), srv.lines.join('|'));
      assert.deepEqual(srv.lines.filter((l) => l.startsWith('got')), ['got 1', 'got 2', 'got 3', 'got 4']);
      const d = delta(await swstats('cn2'), s0, FW);
      // The flow's first packet after the replace is denied and removes it;
      // every later one has no state and is not a SYN.
      assert.equal(d.fwDeny, 1, JSON.stringify(d));
      assert.equal(d.fwFlowsNew, 0, JSON.stringify(d));
      assert.equal(flowsOf('cn2', vm2).filter((f) => f.localPort === 2201).length, 0);
    } finally {
      // The sender resets its connection (dropped: no state); unfiltered,
      // the receiver's close then meets vm1's reset: no socket is left to
      // retransmit into the next test.
      cli.stop();
      vpcctl('cn2', 'fw', 'attach', ov.ids.cn2!.switch, portOf('cn2', vm2));
      vpcctl('cn2', 'fw', 'destroy', '30');
      srv.stop();
      await socketsGone(vm1, 2201);
      await socketsGone(vm2, 2201);
    }
  });

  test('rule replace under a live transfer with keepEstablished: it completes byte for byte, a new connection is denied', async () => {
    vpcctl('cn2', 'fw', 'create', '31', '--keep-established');
    vpcctl('cn2', 'fw', 'rules', '31', 'in allow tcp port 2202');
    vpcctl('cn2', 'fw', 'attach', ov.ids.cn2!.switch, portOf('cn2', vm2), '--ingress', '31');
    const { srv, cli } = await pacedPair(2202, 32768, 8);
    try {
      for (let k = 1; k <= 4; k++) await chunk(cli, k);
      const s0 = await swstats('cn2');
      vpcctl('cn2', 'fw', 'rules', '31', 'in allow tcp port 2201');        // 2202 is no longer allowed
      for (let k = 5; k <= 32; k++) await chunk(cli, k);
      cli.send('close');
      const sent = (await cli.line(/^sent /)).split(' ');
      const got = (await srv.line(/^done /)).split(' ');
      assert.equal(sent[1], String(32 * 32768));
      assert.deepEqual(got.slice(1), sent.slice(1), 'byte for byte');
      const d = delta(await swstats('cn2'), s0, FW);
      assert.deepEqual([d.fwDeny, d.fwInvalid], [0, 0], JSON.stringify(d));
      assert.equal(tryPort(vm1, vm2, 2202, DENIED_S), 'silent', 'a new connection is judged by the new rules');
    } finally {
      cli.stop();
      srv.stop();
      vpcctl('cn2', 'fw', 'attach', ov.ids.cn2!.switch, portOf('cn2', vm2));
      vpcctl('cn2', 'fw', 'destroy', '31');
    }
  });

  test('SYN flood (scapy) to a denied and to an allowed port: every SYN counted once, the table stops at its limit, incipient flows expire, an established connection works throughout', async (t) => {
    const LIMIT = 256, N = 600, BATCH = 100;
    vpcctl('cn2', 'fw', 'create', '40');
    vpcctl('cn2', 'fw', 'rules', '40', 'in allow tcp port 22,2203');
    // A small table (re-sized now: no flow on cn2) so the sweeper goes
    // through all of it each second; incipient flows kept for the flood.
    vpcctl('cn2', 'fw', 'config', '--max-flows', '1024', '--max-flows-port', String(LIMIT), '--tcp-syn', '600');
    vpcctl('cn2', 'fw', 'attach', ov.ids.cn2!.switch, portOf('cn2', vm2), '--ingress', '40');
    const { srv, cli } = await pacedPair(2203, 1024, 9);
    const flood = Driven.in(vm3, '/usr/bin/python3', [floodPy, 'vm3', vm3.mac, vm3.ip!], 'flooder');
    let k = 0;
    try {
      await chunk(cli, ++k);
      await flood.line('ready');
      const f0 = flowsOf('cn2', vm2).length;
      assert.equal(f0, 1, 'the established connection');
      /** N SYNs to port in batches, each accounted for (by the counters named) before the next. */
      const syns = async (port: number, sport: number, counted: (d: Record<string, number>) => number): Promise<Record<string, number>> => {
        const s0 = await swstats('cn2');
        for (let sent = 0; sent < N; sent += BATCH) {
          flood.lines.length = 0;
          flood.send(`syn ${vm2.mac} ${vm2.ip!} ${port} ${sport + sent} ${BATCH}`);
          await flood.line(`sent ${BATCH}`);
          await until(async () => counted(delta(await swstats('cn2'), s0, FW)) >= sent + BATCH, `SYNs ${sent + BATCH} to ${port} counted`);
        }
        return delta(await swstats('cn2'), s0, FW);
      };
      // Denied: each SYN denied, no flow made.
      const dd = await syns(23, 20000, (d) => d.fwDeny!);
      assert.deepEqual(dd, { fwDeny: N, fwInvalid: 0, fwTableFull: 0, fwFlowsNew: 0 }, 'denied flood');
      assert.equal(flowsOf('cn2', vm2).length, f0);
      await chunk(cli, ++k);
      // Allowed: a flow each until the port's limit, then table full.
      const da = await syns(22, 30000, (d) => d.fwFlowsNew! + d.fwTableFull!);
      assert.deepEqual(da, { fwDeny: 0, fwInvalid: 0, fwTableFull: N - (LIMIT - f0), fwFlowsNew: LIMIT - f0 }, 'allowed flood');
      const flows = flowsOf('cn2', vm2);
      assert.equal(flows.length, LIMIT, 'the port is at its limit');
      assert.equal(flows.filter((f) => f.remoteIp === vm3.ip && (f.state === 'syn-sent' || f.state === 'syn-received')).length, LIMIT - f0, 'incipient');
      assert.equal((JSON.parse(vpcctl('cn2', 'fw', 'config', '--json')) as { flows: number }).flows, LIMIT, 'and no flow elsewhere');
      await chunk(cli, ++k);
      assert.equal(tryPort(vm1, vm2, 22, DENIED_S), 'silent', 'a new connection does not fit');
      // The incipient timer down to 1 s: the sweeper takes the flood's flows, the established one stays.
      vpcctl('cn2', 'fw', 'config', '--max-flows', '1024', '--max-flows-port', String(LIMIT), '--tcp-syn', '1');
      await until(() => (JSON.parse(vpcctl('cn2', 'fw', 'config', '--json')) as { flows: number }).flows === f0, 'the incipient flows reclaimed');
      assert.deepEqual(flowsOf('cn2', vm2).map((f) => f.localPort), [2203]);
      await chunk(cli, ++k);
      assert.equal(tryPort(vm1, vm2, 22), 'open', 'room again');
      cli.send('close');
      const sent = (await cli.line(/^sent /)).split(' ');
      assert.deepEqual((await srv.line(/^done /)).split(' ').slice(1), sent.slice(1), 'the established connection, byte for byte');
      t.diagnostic(`denied flood: ${JSON.stringify(dd)}; allowed flood: ${JSON.stringify(da)}; flows on the port ${LIMIT}, before ${f0}`);
    } finally {
      flood.stop();
      cli.stop();
      srv.stop();
      vpcctl('cn2', 'fw', 'attach', ov.ids.cn2!.switch, portOf('cn2', vm2));
      vpcctl('cn2', 'fw', 'destroy', '40');
      vpcctl('cn2', 'fw', 'config', '--tcp-syn', '0');                    // every value back to its default
    }
  });

  test('ICMP: echo denied by a rule and by no rule while the other VM\'s is allowed; traceroute\'s errors pass for its flow, an error quoting no flow does not', async () => {
    vpcctl('cn1', 'fw', 'create', '50');
    vpcctl('cn1', 'fw', 'rules', '50', 'in allow tcp port 80', `in deny icmp from ${vm2.ip}/32 type 8 priority 10`, 'in allow icmp type 8');
    vpcctl('cn1', 'fw', 'attach', ov.ids.cn1!.switch, portOf('cn1', vm1), '--ingress', '50');
    vpcctl('cn2', 'fw', 'create', '51');
    vpcctl('cn2', 'fw', 'rules', '51', 'in allow icmp type 8', 'in allow udp port 33434-33534');
    vpcctl('cn2', 'fw', 'attach', ov.ids.cn2!.switch, portOf('cn2', vm2), '--ingress', '51');
    const flood = Driven.in(vm3, '/usr/bin/python3', [floodPy, 'vm3', vm3.mac, vm3.ip!], 'vm3');
    try {
      let c1 = await swstats('cn1');
      assert.ok(ov.ping('vm1', vm2.ip!), 'vm2 allows echo');
      assert.ok(!ov.ping('vm2', vm1.ip!), 'vm1 denies echo from vm2 by a rule');
      assert.equal(delta(await swstats('cn1'), c1, FW).fwDeny, 1);
      const deny = (JSON.parse(vpcctl('cn1', 'fw', 'show', '50', '--json')) as Array<{ text: string; hits: number }>).find((r) => r.text.includes('deny'))!;
      assert.equal(deny.hits, 1, JSON.stringify(deny));
      vpcctl('cn2', 'fw', 'rules', '51', 'in allow udp port 33434-33534');
      const c2 = await swstats('cn2');
      assert.ok(!ov.ping('vm1', vm2.ip!), 'vm2 no longer allows echo: denied by no rule');
      assert.equal(delta(await swstats('cn2'), c2, FW).fwDeny, 1);
      // UDP traceroute vm1 -> vm2 (one hop: the switch is no router): vm2's
      // port unreachable goes out through vm2's set and in through vm1's,
      // which allows no ICMP but this error: it quotes vm1's probe flow.
      c1 = await swstats('cn1');
      const r = ov.lab.run('traceroute', ['-n', '-q', '1', '-w', '5', '-m', '2', vm2.ip!], { ns: 'vm1', allowFail: true });
      const hops = r.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1]);
      assert.deepEqual(hops, [vm2.ip], r.stdout + r.stderr);
      assert.equal(delta(await swstats('cn1'), c1, FW).fwDeny, 0);
      // The same error quoting a datagram vm1 never sent: dropped.
      await flood.line('ready');
      c1 = await swstats('cn1');
      flood.send(`unreach ${vm1.mac} ${vm1.ip!} ${vm1.ip!} 40000 ${vm2.ip!} 33999`);
      await flood.line('sent 1');
      await until(async () => delta(await swstats('cn1'), c1, FW).fwDeny! >= 1, 'the unrelated error dropped');
      assert.deepEqual(delta(await swstats('cn1'), c1, FW), { fwDeny: 1, fwInvalid: 0, fwTableFull: 0, fwFlowsNew: 0 });
    } finally {
      flood.stop();
      vpcctl('cn1', 'fw', 'attach', ov.ids.cn1!.switch, portOf('cn1', vm1));
      vpcctl('cn2', 'fw', 'attach', ov.ids.cn2!.switch, portOf('cn2', vm2));
      vpcctl('cn1', 'fw', 'destroy', '50');
      vpcctl('cn2', 'fw', 'destroy', '51');
    }
  });
});
