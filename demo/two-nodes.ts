// SPDX-License-Identifier: BSD-2-Clause
/**
 * npm run demo: two compute nodes on the host kernel with the file
 * directory.  Each node is a network namespace running vpc-hostd and
 * vpc-agent; each has one VM (a namespace holding its vmnic's TAP); the
 * nodes share an underlay bridge.  The operator's steps are vpcctl commands,
 * printed as they run.  Each VM is configured as a real guest is: a DHCP
 * client (dhclient) gets its address, MTU and default route from the
 * switch, and no neighbour entry is written by hand.  Each agent pushes
 * the mapping file's entries of its switch's VNI ahead of traffic (push
 * mode, the default): vm2's MAC for its address, and where that MAC lives.
 * vm1 pings vm2: the switch answers vm1's ARP for vm2 itself and the ping
 * goes out over VXLAN, with no miss.  What is left to misses (a VM the
 * directory did not know a moment ago, the long tail beyond --push-cap) is
 * asked of the agent and answered from the file; the demo prints any such
 * upcall.  Everything is removed at the end, also on failure or Ctrl-C.
 * Needs root.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startAgent, type AgentProc } from '../test/helpers/agent.ts';
import { DhcpClients } from '../test/helpers/dhcp-client.ts';
import { startHostd, type Hostd } from '../test/helpers/hostd.ts';
import { Lab } from '../test/helpers/lab.ts';
import { until } from '../test/helpers/overlay.ts';
import { root } from '../test/helpers/paths.ts';

const VNI = 100;
const SUBNET = '203.0.113.0/24';       /* the gateway: 203.0.113.1 */
const GATEWAY = '203.0.113.1';
const nodes = {
  cn1: { vtep: '198.51.100.1', vm: { name: 'vm1', mac: '02:00:00:00:01:01', ip: '203.0.113.11' } },
  cn2: { vtep: '198.51.100.2', vm: { name: 'vm2', mac: '02:00:00:00:02:02', ip: '203.0.113.12' } },
};
type Cn = keyof typeof nodes;

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const say = (s: string) => console.log(`\n${bold(`== ${s}`)}`);

if (process.getuid?.() !== 0) {
  console.error('npm run demo: needs root (it makes network namespaces and TAP devices)');
  process.exit(1);
}

const tmp = mkdtempSync(join(tmpdir(), 'vpc-demo-'));
const mappings = join(tmp, 'mappings.json');
const lab = new Lab('demo');
const hostd: Partial<Record<Cn, Hostd>> = {};
const agents: Partial<Record<Cn, AgentProc>> = {};
let ok = false;

function vpcctl(cn: Cn, ...args: string[]): string {
  console.log(`  [${cn}] $ vpcctl ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [resolve(root, 'bin/vpcctl.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, VPC_HOSTD_SOCKET: hostd[cn]?.socket ?? '', VPC_MAPPINGS: mappings },
  });
  if (r.status !== 0) throw new Error(`vpcctl ${args.join(' ')}: ${r.stderr}`);
  const out = r.stdout.trim();
  if (out) console.log(out.split('\n').map((l) => `    ${l}`).join('\n'));
  return out;
}

async function cleanup(): Promise<void> {
  for (const a of Object.values(agents)) await a?.stop().catch(() => {});
  for (const h of Object.values(hostd)) await h?.stop().catch(() => {});
  await lab.cleanup();
  rmSync(tmp, { recursive: true, force: true });
}

process.on('SIGINT', () => {
  void cleanup().then(() => process.exit(130));
});

try {
  say('the underlay: two compute nodes on one bridge');
  lab.addNs('ul');
  lab.ip('ul', 'link', 'add', 'br0', 'type', 'bridge');
  lab.ip('ul', 'link', 'set', 'br0', 'up');
  for (const [i, cn] of (['cn1', 'cn2'] as Cn[]).entries()) {
    lab.addNs(cn);
    lab.veth(cn, 'u0', 'ul', `b${i + 1}`);
    lab.ip('ul', 'link', 'set', `b${i + 1}`, 'master', 'br0');
    lab.ip(cn, 'addr', 'add', `${nodes[cn].vtep}/24`, 'dev', 'u0');
    console.log(`  ${cn}: underlay address ${nodes[cn].vtep}`);
  }

  say('the mapping directory (a file both agents read): where each VM lives, and its address');
  for (const cn of ['cn1', 'cn2'] as Cn[]) {
    hostd[cn] = await startHostd({ netns: lab.ns(cn), setEnv: false, socket: join(tmp, cn, 'hostd.sock') });
  }
  for (const cn of ['cn1', 'cn2'] as Cn[]) vpcctl(cn, 'map', 'set', String(VNI), nodes[cn].vm.mac, nodes[cn].vtep, '--ip', nodes[cn].vm.ip);

  const dhcp = new DhcpClients(lab, tmp);
  for (const cn of ['cn1', 'cn2'] as Cn[]) {
    const { vm, vtep } = nodes[cn];
    say(`${cn}: vpc-hostd is running; build its VPC with vpcctl`);
    const vcc = vpcctl(cn, 'vcc', 'create', '--ipv4', vtep);
    const sw = vpcctl(cn, 'switch', 'create', '--vni', String(VNI), '--subnet', SUBNET);
    vpcctl(cn, 'switch', 'port', 'add', sw, '--uplink', '--vcc', vcc);
    // The VM's address is the vmnic's: the switch answers ARP for it and serves it by DHCP.
    const nic = vpcctl(cn, 'vmnic', 'create', '--mac', vm.mac, '--ifname', vm.name, '--ip', vm.ip, '--dhcp');
    vpcctl(cn, 'switch', 'port', 'add', sw, '--vmnic', '--nic', nic);
    agents[cn] = await startAgent(['--resolver', 'file', '--mappings', mappings, '--log-level', 'debug'], {
      VPC_HOSTD_SOCKET: hostd[cn]!.socket, VPC_UPCALL_SOCKET: hostd[cn]!.upcallSocket,
    });
    console.log(`  vpc-agent on ${cn}: attached as the upcall reader, metrics on http://${agents[cn]!.metricsAddr}/metrics`);
    // The vmnic is a TAP device in the node's namespace: hand it to the VM,
    // which configures itself as a guest does, with a DHCP client.
    lab.addNs(vm.name);
    lab.ip(cn, 'link', 'set', vm.name, 'netns', lab.ns(vm.name));
    console.log(`  [${vm.name}] $ dhclient ${vm.name}`);
    dhcp.start(vm.name);
    await until(() => dhcp.bound(vm.name) !== undefined, `${vm.name}'s DHCP lease`, 60_000);
    const lease = dhcp.bound(vm.name)!;
    console.log(`  ${vm.name} on ${cn}: leased ${lease.new_ip_address}/${lease.new_subnet_mask}, router ${lease.new_routers}, MTU ${lease.new_interface_mtu}; MAC ${vm.mac}`);
  }

  say(`vm1 pings its gateway (${GATEWAY}), answered by the switch on cn1`);
  const gwPing = lab.run('ping', ['-n', '-c', '2', '-i', '0.3', '-W', '3', GATEWAY], { ns: 'vm1', allowFail: true });
  console.log(gwPing.stdout.trim().split('\n').map((l) => `  ${l}`).join('\n'));

  say(`vm1 pings vm2 (${nodes.cn2.vm.ip}) across the overlay`);
  const ping = lab.run('ping', ['-n', '-c', '3', '-i', '0.3', '-W', '3', nodes.cn2.vm.ip], { ns: 'vm1', allowFail: true });
  console.log(ping.stdout.trim().split('\n').map((l) => `  ${l}`).join('\n'));
  ok = ping.status === 0 && gwPing.status === 0;

  say('what vpc-agent on cn1 did, as it logged it');
  for (const l of agents.cn1!.logs.filter((x) => x.msg === 'mappings pushed to the switches')) {
    console.log(`  pushed ahead of traffic (${String(l.why)}): ${String(l.cam)} forwarding and ${String(l.neighbours)} neighbour entries to ${String(l.switches)} switch(es)`);
  }
  const upcalls = agents.cn1!.logs.filter((x) => x.msg === 'upcall' || x.msg === 'answered');
  if (upcalls.length === 0) console.log('  no upcall: nothing missed');
  for (const l of upcalls) {
    const what = l.msg !== 'upcall' ? `: found=${String(l.found)}`
      : l.ip ? `: which MAC has ${String(l.ip)} (VNI ${String(l.vni)}), and where does it live?`
        : `: where does ${String(l.mac)} (VNI ${String(l.vni)}) live?`;
    console.log(`  ${l.msg === 'upcall' ? 'asked   ' : 'answered'}  request ${String(l.req)}${what}`);
  }
  say('what cn1 installed, and its counters');
  const cn1sw = JSON.parse(vpcctl('cn1', 'switch', 'list', '--json')) as Array<{ id: string }>;
  vpcctl('cn1', 'nbr', 'dump', cn1sw[0]!.id);
  vpcctl('cn1', 'cam', 'dump', cn1sw[0]!.id);
  const stats = JSON.parse(spawnSync(process.execPath, [resolve(root, 'bin/vpcctl.js'), 'stats', cn1sw[0]!.id, '--json'],
    { encoding: 'utf8', env: { ...process.env, VPC_HOSTD_SOCKET: hostd.cn1!.socket } }).stdout) as Record<string, number>;
  console.log(`  ARP answered by the switch ${stats.arpReplies}, DHCP offers ${stats.dhcpOffer}, acks ${stats.dhcpAck}; misses ${stats.misses}, upcalls ${stats.upcalls}, answers ${stats.answers}, held frames released ${stats.released}, VXLAN out ${stats.txRemote}, in ${stats.rxRemote}`);
} catch (e) {
  console.error(`\ndemo failed: ${(e as Error).message}`);
} finally {
  say('cleaning up: agents, daemons, namespaces');
  await cleanup();
}
console.log(ok ? '\nvm1 reached vm2 through vpc.' : '\nthe ping did not get through.');
process.exit(ok ? 0 : 1);
