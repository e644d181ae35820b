// SPDX-License-Identifier: BSD-2-Clause
/**
 * The port firewall behind the router: one node, two subnets (two switches)
 * joined by the router, a VM on each with a static address and the gateway
 * as its default route, built with vpcctl.  The VMs' ingress sets allow no
 * ICMP at all, yet a UDP traceroute shows the gateway (time exceeded, from
 * the router port) and then the destination (port unreachable): ICMP errors
 * quoting a flow the port knows pass; an echo from the other subnet does not.
 * (firewall.test.ts has the two-node cases.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Overlay } from './helpers/overlay.ts';
import { root, VPCCTL_TIMEOUT_MS } from './helpers/paths.ts';

const ROUTER = '7e5a1c40-0000-4000-8000-000000000714';
const SUBNETS = [
  { vni: 710, cidr: '10.71.0.0/24', gw: '10.71.0.1', sw: '7e5a1c40-0000-4000-8000-000000000710' },
  { vni: 720, cidr: '10.72.0.0/24', gw: '10.72.0.1', sw: '7e5a1c40-0000-4000-8000-000000000720' },
];
const VMS = [
  { name: 'fa', subnet: SUBNETS[0]!, ip: '10.71.0.11', mac: '02:00:00:71:00:11' },
  { name: 'fb', subnet: SUBNETS[1]!, ip: '10.72.0.11', mac: '02:00:00:72:00:11' },
];
const ov = new Overlay('fr');
const ports: Record<string, string> = {};

function vpcctl(...args: string[]): string {
  const r = spawnSync(process.execPath, [resolve(root, 'bin/vpcctl.js'), ...args], { encoding: 'utf8', env: { ...process.env, ...ov.env('cn1') }, timeout: VPCCTL_TIMEOUT_MS });
  assert.equal(r.status, 0, `vpcctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function fwstats(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of SUBNETS) {
    const st = JSON.parse(vpcctl('stats', s.sw, '--json')) as Record<string, number>;
    for (const k of ['fwDeny', 'fwInvalid', 'fwFlowsNew']) {
      assert.equal(typeof st[k], 'number', k);
      out[k] = (out[k] ?? 0) + st[k]!;
    }
  }
  return out;
}

before(async () => {
  await ov.addNode('cn1');
  vpcctl('router', 'create', '--id', ROUTER);
  for (const s of SUBNETS) {
    vpcctl('switch', 'create', '--id', s.sw, '--vni', String(s.vni), '--subnet', s.cidr);
    vpcctl('router', 'attach', ROUTER, s.sw);
  }
  for (const v of VMS) {
    const nic = vpcctl('vmnic', 'create', '--mac', v.mac, '--ifname', v.name, '--ip', v.ip);
    ports[v.name] = (JSON.parse(vpcctl('switch', 'port', 'add', v.subnet.sw, '--vmnic', '--nic', nic, '--json')) as { id: string }).id;
    ov.lab.addNs(v.name);
    ov.lab.ip('cn1', 'link', 'set', v.name, 'netns', ov.lab.ns(v.name));
    ov.lab.ip(v.name, 'addr', 'add', `${v.ip}/24`, 'dev', v.name);
    ov.lab.ip(v.name, 'link', 'set', v.name, 'up');
    ov.lab.ip(v.name, 'route', 'add', 'default', 'via', v.subnet.gw);
  }
});

after(async () => {
  assert.deepEqual(await ov.close(), [], 'the daemons stopped cleanly');
});

describe('port firewall behind the router', () => {
  test('traceroute across subnets: time exceeded from the gateway and port unreachable from the destination pass as related; an echo does not', (t) => {
    vpcctl('fw', 'create', '60');
    vpcctl('fw', 'rules', '60', 'in allow udp port 33434-33534');
    for (const v of VMS) vpcctl('fw', 'attach', v.subnet.sw, ports[v.name]!, '--ingress', '60');
    const s0 = fwstats();
    const r = ov.lab.run('traceroute', ['-n', '-q', '1', '-w', '5', '-m', '4', VMS[1]!.ip], { ns: 'fa', allowFail: true });
    const hops = r.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1]);
    assert.deepEqual(hops, [SUBNETS[0]!.gw, VMS[1]!.ip], r.stdout + r.stderr);
    const s1 = fwstats();
    assert.deepEqual([s1.fwDeny, s1.fwInvalid], [s0.fwDeny, s0.fwInvalid], 'nothing dropped');
    // Each probe makes a flow out of fa (its own port); TTL 1 dies at the
    // router, TTL >= 2 makes one into fb too.  (traceroute sends the probes
    // of several hops at once: 7 here with -m 4; at least the 3 of two hops.)
    assert.ok(s1.fwFlowsNew! >= s0.fwFlowsNew! + 3, `the probes' flows: ${s1.fwFlowsNew! - s0.fwFlowsNew!}`);
    t.diagnostic(`new flows for the traceroute: ${s1.fwFlowsNew! - s0.fwFlowsNew!}`);
    assert.equal(ov.lab.run('ping', ['-n', '-c', '1', '-W', '3', VMS[1]!.ip], { ns: 'fa', allowFail: true }).status, 1, 'echo: no rule');
    assert.equal(fwstats().fwDeny, s0.fwDeny! + 1);
    for (const v of VMS) vpcctl('fw', 'attach', v.subnet.sw, ports[v.name]!);
    vpcctl('fw', 'destroy', '60');
  });
});
