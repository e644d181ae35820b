/**
 * npm run demo: two compute nodes on the host kernel with the file
 * directory.  Each node is a network namespace running vpc-hostd and
 * vpc-agent; each has one VM (a namespace holding its vmnic's TAP); the
 * nodes share an underlay bridge.  The operator's steps are vpcctl commands,
 * printed as they run.  vm1 pings vm2: the first frame misses on node 1,
 * the switch asks the agent, the agent answers from the mapping file, the
 * entry is installed and the held frame goes out over VXLAN.  Everything is
 * removed at the end, also on failure or Ctrl-C.  Needs root.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startAgent, type AgentProc } from '../test/helpers/agent.ts';
import { startHostd, type Hostd } from '../test/helpers/hostd.ts';
import { Lab } from '../test/helpers/lab.ts';
import { root } from '../test/helpers/paths.ts';

const VNI = 100;
const nodes = {
  cn1: { vtep: '198.51.100.1', vm: { name: 'vm1', mac: '02:00:00:00:01:01', ip: '203.0.113.1' } },
  cn2: { vtep: '198.51.100.2', vm: { name: 'vm2', mac: '02:00:00:00:02:02', ip: '203.0.113.2' } },
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

  say('the mapping directory (a file both agents read): where each VM lives');
  for (const cn of ['cn1', 'cn2'] as Cn[]) {
    hostd[cn] = await startHostd({ netns: lab.ns(cn), setEnv: false, socket: join(tmp, cn, 'hostd.sock') });
  }
  for (const cn of ['cn1', 'cn2'] as Cn[]) vpcctl(cn, 'map', 'set', String(VNI), nodes[cn].vm.mac, nodes[cn].vtep);

  for (const cn of ['cn1', 'cn2'] as Cn[]) {
    const { vm, vtep } = nodes[cn];
    say(`${cn}: vpc-hostd is running; build its VPC with vpcctl`);
    const vcc = vpcctl(cn, 'vcc', 'create', '--ipv4', vtep);
    const sw = vpcctl(cn, 'switch', 'create', '--vni', String(VNI), '--subnet', '203.0.113.0/24');
    vpcctl(cn, 'switch', 'port', 'add', sw, '--uplink', '--vcc', vcc);
    const nic = vpcctl(cn, 'vmnic', 'create', '--mac', vm.mac, '--ifname', vm.name);
    vpcctl(cn, 'switch', 'port', 'add', sw, '--vmnic', '--nic', nic);
    // The vmnic is a TAP device in the node's namespace: hand it to the VM.
    lab.addNs(vm.name);
    lab.ip(cn, 'link', 'set', vm.name, 'netns', lab.ns(vm.name));
    lab.ip(vm.name, 'addr', 'add', `${vm.ip}/24`, 'dev', vm.name);
    lab.ip(vm.name, 'link', 'set', vm.name, 'up');
    console.log(`  ${vm.name}: ${vm.ip} on ${cn}, MAC ${vm.mac}`);
    agents[cn] = await startAgent(['--resolver', 'file', '--mappings', mappings, '--log-level', 'debug'], {
      VPC_HOSTD_SOCKET: hostd[cn]!.socket, VPC_UPCALL_SOCKET: hostd[cn]!.upcallSocket,
    });
    console.log(`  vpc-agent on ${cn}: attached as the upcall reader, metrics on http://${agents[cn]!.metricsAddr}/metrics`);
  }
  // ARP does not cross the underlay (docs/datapath.md): the VMs know each other.
  lab.ip('vm1', 'neigh', 'replace', nodes.cn2.vm.ip, 'lladdr', nodes.cn2.vm.mac, 'dev', 'vm1', 'nud', 'permanent');
  lab.ip('vm2', 'neigh', 'replace', nodes.cn1.vm.ip, 'lladdr', nodes.cn1.vm.mac, 'dev', 'vm2', 'nud', 'permanent');

  say(`vm1 pings vm2 (${nodes.cn2.vm.ip}) across the overlay`);
  const ping = lab.run('ping', ['-n', '-c', '3', '-i', '0.3', '-W', '3', nodes.cn2.vm.ip], { ns: 'vm1', allowFail: true });
  console.log(ping.stdout.trim().split('\n').map((l) => `  ${l}`).join('\n'));
  ok = ping.status === 0;

  say('the upcall on cn1, as vpc-agent logged it');
  await agents.cn1!.waitLog((l) => l.msg === 'answered', 'the agent\'s answer', 3000).catch(() => {});
  for (const l of agents.cn1!.logs.filter((x) => x.msg === 'upcall' || x.msg === 'answered')) {
    console.log(`  ${l.msg === 'upcall' ? 'asked   ' : 'answered'}  request ${String(l.req)}${l.mac ? `: where does ${String(l.mac)} (VNI ${String(l.vni)}) live?` : `: found=${String(l.found)}`}`);
  }
  say('what cn1 installed, and its counters');
  const cn1sw = JSON.parse(vpcctl('cn1', 'switch', 'list', '--json')) as Array<{ id: string }>;
  vpcctl('cn1', 'cam', 'dump', cn1sw[0]!.id);
  const stats = JSON.parse(spawnSync(process.execPath, [resolve(root, 'bin/vpcctl.js'), 'stats', cn1sw[0]!.id, '--json'],
    { encoding: 'utf8', env: { ...process.env, VPC_HOSTD_SOCKET: hostd.cn1!.socket } }).stdout) as Record<string, number>;
  console.log(`  misses ${stats.misses}, upcalls ${stats.upcalls}, answers ${stats.answers}, held frames released ${stats.released}, VXLAN out ${stats.txRemote}, in ${stats.rxRemote}`);
} catch (e) {
  console.error(`\ndemo failed: ${(e as Error).message}`);
} finally {
  say('cleaning up: agents, daemons, namespaces');
  await cleanup();
}
console.log(ok ? '\nvm1 reached vm2 through vpc.' : '\nthe ping did not get through.');
process.exit(ok ? 0 : 1);
