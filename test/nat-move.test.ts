// SPDX-License-Identifier: BSD-2-Clause
/**
 * An EIP moves between two compute nodes, each with its own vpc-hostd: both
 * nodes' interfaces up0 are on one provider network (a Linux bridge in the
 * provider's namespace, pv: 203.0.113.1/24), each node has the same VPC
 * (router, subnet, NAT, link on up0, the upstream resolved by ARP), and the
 * VM 10.80.0.11 with the EIP 203.0.113.10 runs first on cn1, then on cn2,
 * built with vpcctl as an operator's orchestration would:
 *  - on cn1: the provider reaches the EIP, and a TCP server in the VM
 *    answers "cn1"; the provider's neighbour entry is cn1's up0;
 *  - the move: unbound on cn1, bound on cn2; cn2's gratuitous ARP moves
 *    the provider's entry to cn2's up0 with no request from the provider,
 *    and the same TCP connection attempt now answers "cn2";
 *  - the provider asks afresh (its entry flushed): only cn2 answers (cn1's
 *    link answers no ARP for an address it no longer has).
 * The provider's ARP lock time is 0 so that a gratuitous ARP right after
 * an answer is taken: Linux ignores updates within locktime of the last
 * (1 s by default), which would make the test depend on the clock.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Overlay, until } from './helpers/overlay.ts';
import { root, VPCCTL_TIMEOUT_MS } from './helpers/paths.ts';

const PY = '/usr/bin/python3';
const NODES = ['cn1', 'cn2'] as const;
type Node = typeof NODES[number];
const PROVIDER = '203.0.113.1';
const EIP = '203.0.113.10';
const SUBNET = { cidr: '10.80.0.0/24', gw: '10.80.0.1', vni: 800 };
const VM = { ip: '10.80.0.11', mac: '02:00:00:80:10:11' };

/* Answer every TCP connection on port argv[1] with argv[2]. */
const SERVER = `
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[1]))); s.listen(8)
print("ready", flush=True)
while True:
    c, a = s.accept()
    c.sendall((sys.argv[2] + "\\n").encode()); c.close()
`;
const CLIENT = `
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
print(c.recv(100).decode().strip())
`;

const ov = new Overlay('nm');
const ids: Record<Node, { nat: string; link: string }> = { cn1: { nat: '', link: '' }, cn2: { nat: '', link: '' } };

function vpcctl(node: Node, ...args: string[]): string {
  const r = spawnSync(process.execPath, [resolve(root, 'bin/vpcctl.js'), ...args], {
    encoding: 'utf8', env: { ...process.env, ...ov.env(node) }, timeout: VPCCTL_TIMEOUT_MS,
  });
  if (r.status !== 0) throw new Error(`vpcctl ${args.join(' ')} on ${node}: ${r.stderr}`);
  return r.stdout.trim();
}

const macOf = (ns: string, dev: string): string =>
  (JSON.parse(ov.lab.ip(ns, '-j', 'link', 'show', dev).stdout) as Array<{ address: string }>)[0]!.address;

/* The provider's neighbour entry for the EIP: a MAC, or undefined. */
const eipAt = (): string | undefined =>
  (JSON.parse(ov.lab.ip('pv', '-j', 'neigh', 'show', EIP, 'dev', 'br0').stdout) as Array<{ lladdr?: string }>)[0]?.lladdr;

const arpReplies = (node: Node): number =>
  (JSON.parse(vpcctl(node, 'link', 'get', ids[node].link, '--json')) as { stats: { arpReplies: number } }).stats.arpReplies;

/* Connect from the provider to the EIP's TCP server: what it answered, or why not. */
function whoAnswers(): string {
  const r = ov.lab.run(PY, ['-c', CLIENT, EIP, '8080'], { ns: 'pv', allowFail: true, timeoutMs: 15_000 });
  return r.status === 0 ? r.stdout.trim() : `failed: ${r.stderr.trim().split('\n').pop() ?? ''}`;
}

before(async () => {
  ov.lab.addNs('pv');
  ov.lab.ip('pv', 'link', 'add', 'br0', 'type', 'bridge');
  ov.lab.ip('pv', 'addr', 'add', `${PROVIDER}/24`, 'dev', 'br0');
  ov.lab.ip('pv', 'link', 'set', 'br0', 'up');
  ov.lab.run('sysctl', ['-qw', 'net.ipv4.neigh.br0.locktime=0'], { ns: 'pv' });
  for (const node of NODES) {
    await ov.addNode(node);
    ov.lab.veth(node, 'up0', 'pv', `p${node}`);
    ov.lab.ip('pv', 'link', 'set', `p${node}`, 'master', 'br0');
    // The same VPC on each node (the router is distributed), and the VM's
    // vmnic, its namespace vm-<node>: the VM runs on one node at a time.
    const rtr = vpcctl(node, 'router', 'create');
    const sw = vpcctl(node, 'switch', 'create', '--vni', String(SUBNET.vni), '--subnet', SUBNET.cidr);
    vpcctl(node, 'router', 'attach', rtr, sw);
    const nic = vpcctl(node, 'vmnic', 'create', '--mac', VM.mac, '--ifname', 'vmx', '--ip', VM.ip);
    vpcctl(node, 'switch', 'port', 'add', sw, '--vmnic', '--nic', nic);
    const vm = `vm-${node}`;
    ov.lab.addNs(vm);
    ov.lab.ip(node, 'link', 'set', 'vmx', 'netns', ov.lab.ns(vm));
    ov.lab.ip(vm, 'addr', 'add', `${VM.ip}/24`, 'dev', 'vmx');
    ov.lab.ip(vm, 'link', 'set', 'vmx', 'up');
    ov.lab.ip(vm, 'route', 'add', 'default', 'via', SUBNET.gw);
    const server = ov.lab.spawnIn(vm, PY, ['-u', '-c', SERVER, '8080', node]);
    let out = '';
    server.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
    await until(() => out.includes('ready'), `the TCP server in ${vm}`);
    ids[node].link = vpcctl(node, 'link', 'create', '--ifname', 'up0');
    ids[node].nat = vpcctl(node, 'nat', 'create');
    vpcctl(node, 'nat', 'set-link', ids[node].nat, ids[node].link);
    vpcctl(node, 'nat', 'attach', ids[node].nat, rtr);
    vpcctl(node, 'route', 'add', rtr, '0.0.0.0/0', '--internet');
    vpcctl(node, 'nat', 'config', ids[node].nat, '--upstream-ip', PROVIDER);
  }
});

after(async () => {
  assert.deepEqual(await ov.close(), [], 'the daemons stopped cleanly');
});

describe('an EIP moves from one vpc-hostd to another', () => {
  test('on cn1: the provider reaches the VM by its EIP', async () => {
    vpcctl('cn1', 'nat', 'eip', 'bind', ids.cn1.nat, VM.ip, EIP);
    // The bind's gratuitous ARP gives the provider its entry, unasked.
    await until(() => eipAt() === macOf('cn1', 'up0'), "the provider's entry for the EIP at cn1's up0");
    // The reply goes out by the upstream's MAC, resolved by ARP on cn1's link.
    await until(() => whoAnswers() === 'cn1', 'the VM on cn1 answering on its EIP');
    const up = (JSON.parse(vpcctl('cn1', 'nat', 'get', ids.cn1.nat, '--json')) as { upstream: { state: string; mac: string } }).upstream;
    assert.deepEqual([up.state, up.mac], ['resolved', macOf('pv', 'br0')]);
  });

  test("the move: unbound on cn1, bound on cn2; cn2's gratuitous ARP moves the provider's entry, the connection lands on cn2", async () => {
    vpcctl('cn1', 'nat', 'eip', 'unbind', ids.cn1.nat, VM.ip);
    assert.equal(eipAt(), macOf('cn1', 'up0'), 'the provider has not noticed yet');
    vpcctl('cn2', 'nat', 'eip', 'bind', ids.cn2.nat, VM.ip, EIP);
    await until(() => eipAt() === macOf('cn2', 'up0'), "the provider's entry for the EIP at cn2's up0");
    await until(() => whoAnswers() === 'cn2', 'the VM on cn2 answering on its EIP');
    const s1 = JSON.parse(vpcctl('cn1', 'nat', 'get', ids.cn1.nat, '--json')) as { eips: unknown[] };
    assert.deepEqual(s1.eips, [], 'cn1 holds no EIP any more');
  });

  test('asked afresh, only cn2 answers for the EIP', () => {
    const before = { cn1: arpReplies('cn1'), cn2: arpReplies('cn2') };
    ov.lab.ip('pv', 'neigh', 'flush', 'dev', 'br0');
    assert.equal(whoAnswers(), 'cn2');
    assert.equal(eipAt(), macOf('cn2', 'up0'));
    assert.equal(arpReplies('cn1'), before.cn1, 'cn1 answered no ARP for the EIP it gave up');
    assert.ok(arpReplies('cn2') > before.cn2, 'cn2 answered the request');
  });
});
