// SPDX-License-Identifier: BSD-2-Clause
/**
 * Compute nodes joined by an underlay, as network namespaces: an underlay
 * bridge (ul), a namespace per node running its own vpc-hostd with an
 * orchestrator process (test/fixtures/node.ts) that sets up a vcc, one
 * switch and the node's vmnics, and a namespace per VM holding its vmnic's
 * TAP device.  Addresses are documentation ranges: the underlay is
 * 198.51.100.0/24 and 2001:db8:1::/64, the overlay 203.0.113.0/24.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startClient, type Client } from './client.ts';
import { startHostd, type Hostd } from './hostd.ts';
import { Lab } from './lab.ts';
import { onExit } from './reaper.ts';
import { stopProcess } from './proc.ts';

export interface VmSpec {
  name: string;
  mac: string;
  /** Configured statically in the VM's namespace; '' for none (a DHCP client gets it). */
  ip: string;
  /** An IPv6 address too (configured /64, no DAD). */
  ip6?: string;
}

export interface SetupOptions {
  /** The switch's subnets: with them the switch answers ARP/ND itself. */
  subnets?: string[];
  /** Give each vmnic its VM's addresses (NIC_SET_ADDR). */
  addresses?: boolean;
  /** The gateway's addresses, where the default (the subnet's first host) is a VM's. */
  gateway?: { ipv4?: string; ipv6?: string };
}

export class Overlay {
  readonly lab: Lab;
  readonly hostd: Record<string, Hostd> = {};
  readonly node: Record<string, Client> = {};
  readonly ids: Record<string, { switch: string; vcc: string; nics: string[] }> = {};
  readonly tmp = mkdtempSync(join(tmpdir(), 'vpc-overlay-'));
  readonly vms: VmSpec[] = [];
  readonly #setupOpts: Record<string, SetupOptions> = {};
  /** The temporary directory goes on ^C too, not only in close(). */
  readonly #atExit = onExit(() => rmSync(this.tmp, { recursive: true, force: true }));

  /** hostdBin: every node's vpc-hostd binary, when not the build's (bench/peer's vpc-b). */
  constructor(tag: string, readonly vni = 100, readonly hostdBin?: string) {
    this.lab = new Lab(tag);
    this.lab.addNs('ul');
    this.lab.ip('ul', 'link', 'add', 'br0', 'type', 'bridge');
    this.lab.ip('ul', 'link', 'set', 'br0', 'up');
  }

  vtep(cn: string): string {
    return `198.51.100.${this.#index(cn)}`;
  }

  vtep6(cn: string): string {
    return `2001:db8:1::${this.#index(cn)}`;
  }

  #index(cn: string): number {
    return Number(/(\d+)$/.exec(cn)?.[1] ?? 0);
  }

  /** A namespace on the underlay (cnN gets 198.51.100.N). */
  addHost(cn: string): void {
    const i = this.#index(cn);
    this.lab.addNs(cn);
    this.lab.veth(cn, 'u0', 'ul', `b${i}`);
    this.lab.ip('ul', 'link', 'set', `b${i}`, 'master', 'br0');
    this.lab.ip(cn, 'addr', 'add', `${this.vtep(cn)}/24`, 'dev', 'u0');
    this.lab.ip(cn, 'addr', 'add', `${this.vtep6(cn)}/64`, 'dev', 'u0', 'nodad');
  }

  /** A compute node: its namespace, vpc-hostd (with these flags and environment) and orchestrator. */
  async addNode(cn: string, hostdArgs: string[] = [], hostdEnv: NodeJS.ProcessEnv = {}): Promise<void> {
    this.addHost(cn);
    this.hostd[cn] = await startHostd({ netns: this.lab.ns(cn), setEnv: false, socket: join(this.tmp, cn, 'hostd.sock'), args: hostdArgs, env: hostdEnv, bin: this.hostdBin });
    this.node[cn] = await this.startNode(cn);
  }

  /** Another orchestrator process for a node (after one was killed). */
  startNode(cn: string): Promise<Client> {
    return startClient(this.env(cn), 'node.ts');
  }

  /** What a process needs to talk to cn's kernel. */
  env(cn: string): NodeJS.ProcessEnv {
    return { VPC_HOSTD_SOCKET: this.hostd[cn]!.socket, VPC_UPCALL_SOCKET: this.hostd[cn]!.upcallSocket };
  }

  /** The node's vcc, switch and uplink, and its VMs' vmnics in their namespaces. */
  async setup(cn: string, vms: VmSpec[], opts: SetupOptions = {}): Promise<void> {
    this.#setupOpts[cn] = opts;
    this.ids[cn] = (await this.node[cn]!.call('setup', this.#setupArgs(cn, vms))) as { switch: string; vcc: string; nics: string[] };
    for (const vm of vms) this.plugVm(cn, vm);
  }

  /**
   * The node's kernel dies (SIGKILL), as a FreeBSD panic would take the
   * module: every object goes, every TAP with it.  Its orchestrator process
   * goes too (what it held were handles of the dead kernel).
   */
  async crashNode(cn: string): Promise<void> {
    const h = this.hostd[cn]!;
    await stopProcess(h.proc, 'SIGKILL', `${cn}'s vpc-hostd`);
    await h.stop().catch(() => { /* killed on purpose; this removes its directory */ });
    await this.node[cn]!.kill('SIGKILL');
  }

  /** A new kernel on the same socket, and the orchestrator re-creating the same objects; the VMs plugged again. */
  async recreateNode(cn: string, vms: VmSpec[], hostdArgs: string[] = []): Promise<void> {
    this.hostd[cn] = await startHostd({ netns: this.lab.ns(cn), setEnv: false, socket: join(this.tmp, cn, 'hostd.sock'), args: hostdArgs, bin: this.hostdBin });
    this.node[cn] = await this.startNode(cn);
    const ids = this.ids[cn]!;
    this.ids[cn] = (await this.node[cn]!.call('setup', { ...this.#setupArgs(cn, vms), ids })) as { switch: string; vcc: string; nics: string[] };
    for (const vm of vms) this.plugVm(cn, vm, { again: true });
  }

  #setupArgs(cn: string, vms: VmSpec[]): Record<string, unknown> {
    const opts = this.#setupOpts[cn] ?? {};
    return {
      vni: this.vni, vtep: this.vtep(cn), subnets: opts.subnets ?? [], ...(opts.gateway ? { gateway: opts.gateway } : {}),
      vms: vms.map((v) => ({ mac: v.mac, ifname: v.name, ...(opts.addresses ? { ipv4: v.ip, ...(v.ip6 ? { ipv6: v.ip6 } : {}) } : {}) })),
    };
  }

  /** Move a vmnic's TAP into a namespace of its own (again: the namespace is there already). */
  plugVm(cn: string, vm: VmSpec, opts: { again?: boolean } = {}): void {
    if (!opts.again) this.lab.addNs(vm.name);
    this.lab.ip(cn, 'link', 'set', vm.name, 'netns', this.lab.ns(vm.name));
    if (vm.ip !== '') this.lab.ip(vm.name, 'addr', 'add', `${vm.ip}/24`, 'dev', vm.name);
    if (vm.ip6) this.lab.ip(vm.name, 'addr', 'add', `${vm.ip6}/64`, 'dev', vm.name, 'nodad');
    this.lab.ip(vm.name, 'link', 'set', vm.name, 'up');
    if (!opts.again) this.vms.push(vm);
  }

  /**
   * Static neighbour entries.  Where the switch has a subnet it answers ARP
   * and ND itself (from the directory); these are for what it does not
   * answer (a switch without a subnet, a Linux vxlan peer).
   */
  neighbours(vm: string, peers: Array<{ ip: string; mac: string }>): void {
    for (const p of peers) this.lab.ip(vm, 'neigh', 'replace', p.ip, 'lladdr', p.mac, 'dev', vm, 'nud', 'permanent');
  }

  ping(from: string, to: string, opts: { count?: number; wait?: number; interval?: number } = {}): boolean {
    const args = ['-n', '-q', '-c', String(opts.count ?? 1), '-W', String(opts.wait ?? 3)];
    if (to.includes(':')) args.unshift('-6');
    if (opts.interval) args.push('-i', String(opts.interval));
    return this.lab.run('ping', [...args, to], { ns: from, allowFail: true }).status === 0;
  }

  /**
   * Capture on an interface of one of the lab's namespaces while fn runs
   * (tshark, capture filter filter); the pcap file's path.  With prime (a
   * call that puts one packet the filter takes on the interface), the
   * capture is known to be live before fn runs, and to hold everything fn
   * caused when it stops: prime is called (again, until tshark reports a
   * packet) before fn and after it; the packet socket keeps the order.
   */
  async pcap(ns: string, iface: string, filter: string, fn: () => Promise<void>, prime?: () => void): Promise<string> {
    const pcap = join(this.tmp, `${ns}-${iface}-${Date.now()}.pcap`);
    const cap = this.lab.spawnIn(ns, 'tshark', ['-n', '-i', iface, '-f', filter, '-w', pcap, ...(prime ? ['-P', '-l'] : [])]);
    const err: string[] = [];
    let seen = 0;
    cap.stderr!.setEncoding('utf8').on('data', (d: string) => err.push(d));
    cap.stdout!.setEncoding('utf8').on('data', (d: string) => { seen += d.split('\n').length - 1; });
    const barrier = async (what: string) => {
      const was = seen;
      let next = 0;
      await until(() => {
        if (seen > was) return true;
        if (Date.now() >= next) {
          prime!();
          next = Date.now() + 1000;
        }
        return false;
      }, what, 30_000);
    };
    await until(() => err.join('').includes('Capturing on'), 'tshark to start', 20_000);
    try {
      if (prime) await barrier('the capture to see a first packet');
      await fn();
      if (prime) await barrier('the capture to see a last packet');
      else await sleep(300);
    } finally {
      await stopProcess(cap, 'SIGINT', 'tshark');
    }
    return pcap;
  }

  /** Capture on the underlay bridge while fn runs; the VXLAN rows tshark decodes. */
  async capture(filter: string, fn: () => Promise<void>): Promise<string[][]> {
    const pcap = await this.pcap('ul', 'br0', filter, fn);
    const fields = this.lab.run('tshark', ['-n', '-r', pcap, '-Y', 'vxlan', '-T', 'fields', '-E', 'separator=|',
      '-e', 'ip.src', '-e', 'ip.dst', '-e', 'udp.srcport', '-e', 'vxlan.flags', '-e', 'vxlan.vni',
      '-e', 'eth.src', '-e', 'eth.dst', '-e', 'ipv6.src']).stdout;
    return fields.trim().split('\n').filter(Boolean).map((l) => l.split('|'));
  }

  async close(): Promise<string[]> {
    for (const n of Object.values(this.node)) await n.call('exit').catch(() => {});
    const errors: string[] = [];
    for (const h of Object.values(this.hostd)) await h.stop().catch((e: Error) => errors.push(e.message));
    await this.lab.cleanup();
    rmSync(this.tmp, { recursive: true, force: true });
    this.#atExit.forget();
    return errors;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Wait for cond; the deadline only stops a test that would hang (generous: machines get loaded). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
