// SPDX-License-Identifier: BSD-2-Clause
/**
 * bench/stream: bulk traffic from a VM on one node to a VM on another, vpc
 * against the Linux kernel's vxlan in the same run, on the same topology,
 * measured at the receiving VM by the same definitions.
 *
 * Two compute nodes as namespaces on an underlay bridge (MTU 1500), a VM
 * (namespace) on each, two ways:
 *  - linux: on each node a `vxlan` device (nolearning) under a bridge with
 *    the VM's veth, the other VM's MAC a static FDB entry, VM MTU 1450 (what
 *    an operator sets: the VXLAN headers take 50 bytes);
 *  - vpc: vpc-hostd on each node (test/helpers/overlay.ts), the VM on its
 *    vmnic's TAP, the other VM's MAC a static CAM entry (no agent), the
 *    TAP's MTU what vpc-hostd gives it (1450 too).
 * Neither has an agent or a miss: this is the forwarding path alone.
 *
 * Figures (bench/stream_tool.c at both ends; the receiver's count over the
 * time from its first byte or datagram to its last):
 *  - tcp: one connection, STREAM_SECONDS of 128 KiB writes; Mbit/s of
 *    payload received;
 *  - udp: STREAM_UDP_SIZE-byte datagrams blasted with sendmmsg for
 *    STREAM_SECONDS; datagrams/s received;
 *  - local: the TCP figure between two VMs of node 1 (a second veth on the
 *    same Linux bridge; a second vmnic on the same vpc switch).
 * Both ends and, for vpc, both daemons share this machine's CPUs: a figure
 * is what the whole path does with them.  Systems take turns within every
 * round (STREAM_ROUNDS), median of rounds.  Needs root.  Knobs:
 * STREAM_ROUNDS=3 STREAM_SECONDS=3 STREAM_UDP_SIZE=64 STREAM_FIGURES=tcp,udp,local.
 */
import { spawn } from 'node:child_process';
import { Lab } from '../test/helpers/lab.ts';
import { Overlay } from '../test/helpers/overlay.ts';
import { killOnExit } from '../test/helpers/reaper.ts';
import { buildStreamTool, fmt, median, ratio } from './probe.ts';

const env = process.env;
const ROUNDS = Number(env.STREAM_ROUNDS ?? 3);
const SECONDS = Number(env.STREAM_SECONDS ?? 3);
const UDP_SIZE = Number(env.STREAM_UDP_SIZE ?? 64);
const FIGURES = new Set((env.STREAM_FIGURES ?? 'tcp,udp,local').split(','));
const VNI = 901;
const vm1 = { name: 'vm1', mac: '02:00:00:0a:00:01', ip: '203.0.113.1' };
const vm2 = { name: 'vm2', mac: '02:00:00:0a:00:02', ip: '203.0.113.2' };
/** A second VM on node 1: the same node's path. */
const vm3 = { name: 'vm3', mac: '02:00:00:0a:00:03', ip: '203.0.113.3' };
type Vm = typeof vm1;

interface Node2Node {
  name: string;
  lab: Lab;
  close(): Promise<void>;
}

async function linuxPair(): Promise<Node2Node> {
  const lab = new Lab('sl');
  try {
    lab.addNs('ul', 'n1', 'n2', 'vm1', 'vm2', 'vm3');
    lab.ip('ul', 'link', 'add', 'br0', 'type', 'bridge');
    lab.ip('ul', 'link', 'set', 'br0', 'up');
    for (const [i, vm, peer] of [[1, vm1, 2], [2, vm2, 1]] as const) {
      const n = `n${i}`;
      lab.veth(n, 'u0', 'ul', `b${i}`);
      lab.ip('ul', 'link', 'set', `b${i}`, 'master', 'br0');
      lab.ip(n, 'addr', 'add', `198.51.100.${i}/24`, 'dev', 'u0');
      lab.ip(n, 'link', 'add', 'vxlan0', 'type', 'vxlan', 'id', String(VNI), 'local', `198.51.100.${i}`,
        'dstport', '4789', 'nolearning', 'dev', 'u0');
      lab.ip(n, 'link', 'add', 'br0', 'type', 'bridge');
      lab.ip(n, 'link', 'set', 'vxlan0', 'master', 'br0');
      lab.veth(n, 'p1', vm.name, vm.name);
      lab.ip(n, 'link', 'set', 'p1', 'master', 'br0');
      lab.ip(n, 'link', 'set', 'vxlan0', 'up');
      lab.ip(n, 'link', 'set', 'br0', 'up');
      lab.ip(vm.name, 'link', 'set', vm.name, 'address', vm.mac, 'mtu', '1450');
      lab.ip(vm.name, 'addr', 'add', `${vm.ip}/24`, 'dev', vm.name);
      const other = peer === 2 ? vm2 : vm1;
      lab.run('bridge', ['-n', lab.ns(n), 'fdb', 'add', other.mac, 'dev', 'vxlan0', 'dst', `198.51.100.${peer}`, 'self', 'permanent']);
      lab.ip(vm.name, 'neigh', 'replace', other.ip, 'lladdr', other.mac, 'dev', vm.name, 'nud', 'permanent');
    }
    lab.veth('n1', 'p3', 'vm3', 'vm3');
    lab.ip('n1', 'link', 'set', 'p3', 'master', 'br0');
    lab.ip('vm3', 'link', 'set', 'vm3', 'address', vm3.mac, 'mtu', '1450');
    lab.ip('vm3', 'addr', 'add', `${vm3.ip}/24`, 'dev', 'vm3');
    lab.ip('vm1', 'neigh', 'replace', vm3.ip, 'lladdr', vm3.mac, 'dev', 'vm1', 'nud', 'permanent');
    lab.ip('vm3', 'neigh', 'replace', vm1.ip, 'lladdr', vm1.mac, 'dev', 'vm3', 'nud', 'permanent');
    return { name: 'linux', lab, close: () => lab.cleanup() };
  } catch (e) {
    await lab.cleanup();
    throw e;
  }
}

async function vpcPair(): Promise<Node2Node> {
  const ov = new Overlay('sv', VNI);
  try {
    await ov.addNode('cn1');
    await ov.addNode('cn2');
    await ov.setup('cn1', [vm1, vm3]);
    await ov.setup('cn2', [vm2]);
    await ov.node.cn1!.call('camSet', { entries: [{ dst: vm2.mac, vtep: ov.vtep('cn2'), ttlMs: 0 }] });
    await ov.node.cn2!.call('camSet', { entries: [{ dst: vm1.mac, vtep: ov.vtep('cn1'), ttlMs: 0 }] });
    ov.neighbours('vm1', [vm2, vm3]);
    ov.neighbours('vm2', [vm1]);
    ov.neighbours('vm3', [vm1]);
    const close = async () => {
      const errors = await ov.close();
      if (errors.length > 0) console.error(`bench/stream: vpc-hostd did not stop cleanly: ${errors.join('; ')}`);
    };
    return { name: 'vpc', lab: ov.lab, close };
  } catch (e) {
    await ov.close();
    throw e;
  }
}

/** Start the receiver in `to`, wait for it to listen, run the sender in vm1; the receiver's JSON. */
async function transfer(tool: string, p: Node2Node, to: Vm, recv: string[], send: string[]): Promise<Record<string, number>> {
  const r = killOnExit(spawn('ip', ['netns', 'exec', p.lab.ns(to.name), tool, ...recv], { stdio: ['ignore', 'pipe', 'inherit'] }));
  let text = '';
  r.stdout!.setEncoding('utf8');
  await new Promise<void>((res, rej) => {
    r.stdout!.on('data', (d: string) => {
      text += d;
      if (text.includes('ready\n')) res();
    });
    r.once('exit', (c) => rej(new Error(`stream_tool ${recv[0]} exited (${c}) before it was ready`)));
  });
  const done = new Promise<void>((res) => r.once('exit', () => res()));
  p.lab.run(tool, send, { ns: 'vm1', timeoutMs: (SECONDS + 30) * 1000 });
  const timer = setTimeout(() => r.kill('SIGKILL'), 30_000);
  await done;
  clearTimeout(timer);
  const last = text.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as Record<string, number>;
}

async function tcpMbps(tool: string, p: Node2Node, to: Vm): Promise<number> {
  const j = await transfer(tool, p, to, ['tcp-recv', '5001'], ['tcp-send', to.ip, '5001', String(SECONDS)]);
  return (j.bytes! * 8) / j.seconds! / 1e6;
}

async function udpPps(tool: string, p: Node2Node): Promise<number> {
  const j = await transfer(tool, p, vm2, ['udp-recv', '5002', '1000'], ['udp-send', vm2.ip, '5002', String(SECONDS), String(UDP_SIZE)]);
  return j.seconds! > 0 ? j.datagrams! / j.seconds! : 0;
}

export async function benchStream(): Promise<Record<string, number>> {
  const tool = buildStreamTool();
  const pairs: Node2Node[] = [];
  try {
    // One at a time: what was set up is torn down if the next one fails.
    pairs.push(await linuxPair());
    pairs.push(await vpcPair());
    const tcp: Record<string, number[]> = { linux: [], vpc: [] };
    const udp: Record<string, number[]> = { linux: [], vpc: [] };
    const local: Record<string, number[]> = { linux: [], vpc: [] };
    for (let r = 0; r < ROUNDS; r++) {
      if (FIGURES.has('tcp')) for (const p of pairs) tcp[p.name]!.push(await tcpMbps(tool, p, vm2));
      if (FIGURES.has('udp')) for (const p of pairs) udp[p.name]!.push(await udpPps(tool, p));
      if (FIGURES.has('local')) for (const p of pairs) local[p.name]!.push(await tcpMbps(tool, p, vm3));
    }
    console.log(`bench/stream: VM to VM across two nodes, median of ${ROUNDS} rounds of ${SECONDS} s (higher is better)`);
    console.log(`    ${''.padEnd(36)}${'linux'.padStart(10)}${'vpc'.padStart(10)}  vpc/linux`);
    const out: Record<string, number> = {};
    const row = (label: string, key: string, by: Record<string, number[]>) => {
      if (by.linux!.length === 0) return;
      const l = median(by.linux!);
      const v = median(by.vpc!);
      Object.assign(out, { [`linux_${key}`]: l, [`vpc_${key}`]: v, [`ratio_vpc_linux_${key}`]: ratio(v, l) });
      console.log(`    ${label.padEnd(36)}${fmt(l, 0).padStart(10)}${fmt(v, 0).padStart(10)}${fmt(ratio(v, l), 2).padStart(11)}`);
      console.log(`      rounds: linux ${by.linux!.map((x) => fmt(x, 0)).join('/')}, vpc ${by.vpc!.map((x) => fmt(x, 0)).join('/')}`);
    };
    row('TCP, one connection, Mbit/s', 'tcp_mbps', tcp);
    row(`UDP, ${UDP_SIZE}-byte datagrams received/s`, 'udp_pps', udp);
    row('TCP to a VM on the same node, Mbit/s', 'local_tcp_mbps', local);
    return out;
  } finally {
    for (const p of pairs) await p.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchStream();
