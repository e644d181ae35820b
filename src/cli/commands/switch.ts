// SPDX-License-Identifier: BSD-2-Clause
/** vpcctl switch create|get|list|destroy|set-vni|set-subnet|set-gateway|set-policy and switch port ... */
import type { Argv } from 'yargs';
import { listObjects, newId, Switch, withTxn, type PortInfo, type PortSpec } from '../../vpc/index.ts';
import { cidr, fwSetId, id, ip, unicastMac, UsageError, vlan, vni } from '../args.ts';
import { showDone, showId, showList, showOne } from '../output.ts';
import { run, using } from '../run.ts';

function switchView(sw: Switch): Record<string, unknown> {
  const info = sw.info();
  const c = sw.portCount();
  const gw = sw.gateway();
  const pol = sw.policy();
  return {
    id: sw.id, vni: c.vni, subnets: sw.subnets(), ports: c.ports, uplink: c.hasUplink, router: c.hasRouter,
    committed: info.committed, generation: info.generation,
    gateway: { mac: gw.mac, ipv4: gw.ipv4, ipv6: gw.ipv6, linkLocal: gw.linkLocal },
    policy: { bum: pol.bum, upcallRate: pol.upcallRate, upcallBurst: pol.upcallBurst, raIntervalS: pol.raIntervalS },
  };
}

function rate(name: string) {
  return (v: unknown): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new UsageError(`${name}: expected a whole number 1-1000000, got '${String(v)}'`);
    return n;
  };
}

function portView(p: PortInfo): Record<string, unknown> {
  return {
    id: p.id, kind: p.kind, vlan: p.vlan, vni: p.vni, mac: p.mac, peer: p.peer,
    ingress: p.firewall?.ingress, egress: p.firewall?.egress,
  };
}

const PORT_COLUMNS = ['id', 'kind', 'vlan', 'vni', 'mac', 'peer', 'ingress', 'egress'];

function portCommand(y: Argv): Argv {
  return y
    .command('add <switch>', 'add a port: exactly one of --uplink, --router, --vmnic', (b) => b
      .positional('switch', { type: 'string', coerce: id('switch'), describe: 'the switch' })
      .option('uplink', { type: 'boolean', describe: 'an uplink to the node\'s vcc (at most one)' })
      .option('router', { type: 'boolean', describe: 'the router port (at most one)' })
      .option('vmnic', { type: 'boolean', describe: 'a vmnic port' })
      .option('vcc', { type: 'string', coerce: id('--vcc'), describe: 'uplink: the vcc it plugs into' })
      .option('nic', { type: 'string', coerce: id('--nic'), describe: 'vmnic/router: an existing vmnic to plug in (default for vmnic: make one the port owns)' })
      .option('mac', { type: 'string', coerce: unicastMac('--mac'), describe: 'vmnic: the MAC of the vmnic the port makes' })
      .option('vlan', { type: 'number', coerce: vlan('--vlan'), describe: 'VLAN id, 1-4094' })
      .option('vni', { type: 'number', coerce: vni('--vni'), describe: "VNI (must be the switch's; sets it if unset)" })
      .option('id', { type: 'string', coerce: id('--id'), describe: 'the port\'s UUID (a retried add then meets EEXIST)' })
      .option('ingress', { type: 'number', coerce: fwSetId('--ingress'), describe: 'vmnic: the rule set for traffic to the VM (vpcctl fw)' })
      .option('egress', { type: 'number', coerce: fwSetId('--egress'), describe: 'vmnic: the rule set for traffic from the VM (vpcctl fw)' })
      .check((a) => {
        const kinds = ['uplink', 'router', 'vmnic'].filter((k) => a[k]);
        if (kinds.length !== 1) throw new UsageError(`give exactly one of --uplink, --router, --vmnic (got ${kinds.length ? kinds.map((k) => `--${k}`).join(' ') : 'none'})`);
        if (a.vcc && !a.uplink) throw new UsageError('--vcc goes with --uplink');
        if (a.nic && a.uplink) throw new UsageError('--nic goes with --vmnic or --router');
        if (a.mac && (!a.vmnic || a.nic)) throw new UsageError('--mac goes with --vmnic without --nic');
        if ((a.ingress !== undefined || a.egress !== undefined) && !a.vmnic) throw new UsageError('--ingress and --egress go with --vmnic');
        return true;
      })
      .example('$0 switch port add $SW --uplink --vcc $VCC', 'the uplink to the vcc')
      .example('$0 switch port add $SW --vmnic --vlan 123 --vni 456', 'the seed\'s vmnic port'),
    run((a: { switch: string; uplink?: boolean; router?: boolean; vcc?: string; nic?: string; mac?: string; vlan?: number; vni?: number; id?: string; ingress?: number; egress?: number }) => {
      const common = { ...(a.vlan !== undefined ? { vlan: a.vlan } : {}), ...(a.vni !== undefined ? { vni: a.vni } : {}), ...(a.id ? { id: a.id } : {}) };
      const spec: PortSpec = a.uplink ? { kind: 'uplink', ...common, ...(a.vcc ? { vcc: a.vcc } : {}) }
        : a.router ? { kind: 'router', ...common, ...(a.nic ? { nic: a.nic } : {}) }
          : {
            kind: 'vmnic', ...common, ...(a.nic ? { nic: a.nic } : {}), ...(a.mac ? { mac: a.mac } : {}),
            ...(a.ingress !== undefined ? { ingress: a.ingress } : {}), ...(a.egress !== undefined ? { egress: a.egress } : {}),
          };
      using(Switch.open(a.switch), (sw) => {
        const p = withTxn(sw, (txn) => sw.addPort(spec, { txn }));
        showOne(portView(p));
      });
    }))
    .command('list <switch>', "list a switch's ports", (b) => b
      .positional('switch', { type: 'string', coerce: id('switch'), describe: 'the switch' }),
    run((a: { switch: string }) => {
      using(Switch.open(a.switch), (sw) => showList(sw.ports().map(portView), PORT_COLUMNS));
    }))
    .command('del <switch> <port>', 'delete a port (a vmnic it made goes too)', (b) => b
      .positional('switch', { type: 'string', coerce: id('switch'), describe: 'the switch' })
      .positional('port', { type: 'string', coerce: id('port'), describe: 'the port' }),
    run((a: { switch: string; port: string }) => {
      using(Switch.open(a.switch), (sw) => {
        sw.delPort(a.port);
        showDone({ switch: a.switch, port: a.port });
      });
    }))
    .command('count <switch>', 'how many ports, and whether there is an uplink and a router', (b) => b
      .positional('switch', { type: 'string', coerce: id('switch'), describe: 'the switch' }),
    run((a: { switch: string }) => {
      using(Switch.open(a.switch), (sw) => showOne({ ...sw.portCount() }));
    }))
    .demandCommand(1, 'name a port command');
}

export function switchCommand(y: Argv): Argv {
  return y
    .command('create', 'create a switch (committed); prints its id', (b) => b
      .option('vni', { type: 'number', coerce: vni('--vni'), describe: 'the one VNI it carries (0: VLAN-tagged frames, never VXLAN)' })
      .option('subnet', { type: 'string', array: true, coerce: (v: string[]) => v.map(cidr('--subnet')), describe: 'its IPv4 and/or IPv6 subnet: off-subnet traffic goes to the router port' })
      .option('id', { type: 'string', coerce: id('--id'), describe: 'its UUID (default: a new random one)' })
      .example('$0 switch create --vni 456 --subnet 10.0.0.0/24', ''),
    run((a: { vni?: number; subnet?: string[]; id?: string }) => {
      const created = using(Switch.create(a.id ?? newId(), a.vni !== undefined ? { vni: a.vni } : {}), (sw) => {
        for (const s of a.subnet ?? []) sw.setSubnet(s);
        sw.commit();
        return sw.id;
      });
      showId(created);
    }))
    .command('get <id>', 'show a switch', (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the switch' }),
    run((a: { id: string }) => {
      using(Switch.open(a.id), (sw) => showOne(switchView(sw)));
    }))
    .command('list', 'list switches', (b) => b,
      run(() => {
        showList(listObjects('switch').map((o) => using(Switch.open(o.id), switchView)), ['id', 'vni', 'ports', 'uplink', 'router', 'subnets', 'committed']);
      }))
    .command('destroy <id>', 'remove a switch and its ports', (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the switch' }),
    run((a: { id: string }) => {
      using(Switch.open(a.id), (sw) => sw.destroy());
      showDone({ id: a.id });
    }))
    .command('set-vni <id> <vni>', "change a switch's VNI (its learned entries are flushed)", (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the switch' })
      .positional('vni', { type: 'string', coerce: vni('vni'), describe: 'the VNI, 0-16777215' }),
    run((a: { id: string; vni: number }) => {
      using(Switch.open(a.id), (sw) => {
        sw.setVni(a.vni);
        showDone({ id: a.id, vni: a.vni });
      });
    }))
    .command('set-subnet <id> <cidr>', "set a switch's IPv4 or IPv6 subnet (a /0 clears that family)", (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the switch' })
      .positional('cidr', { type: 'string', coerce: cidr('cidr'), describe: 'e.g. 10.0.0.0/24 or 2001:db8::/64' }),
    run((a: { id: string; cidr: string }) => {
      using(Switch.open(a.id), (sw) => {
        sw.setSubnet(a.cidr);
        showDone({ id: a.id, subnet: a.cidr });
      });
    }))
    .command('set-gateway <id>', "set the gateway's addresses and MAC (each one not given goes back to its default)", (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the switch' })
      .option('ipv4', { type: 'string', coerce: ip('--ipv4', 4), describe: 'its IPv4 address, inside the subnet (default: the first host, e.g. 10.0.0.1)' })
      .option('ipv6', { type: 'string', coerce: ip('--ipv6', 6), describe: 'its IPv6 address, inside the subnet (default: the first host)' })
      .option('mac', { type: 'string', coerce: unicastMac('--mac'), describe: 'its MAC (default: 02:76 and four bytes of the switch\'s id)' })
      .example('$0 switch set-gateway $SW --ipv4 10.0.0.254', ''),
    run((a: { id: string; ipv4?: string; ipv6?: string; mac?: string }) => {
      using(Switch.open(a.id), (sw) => {
        withTxn(sw, (txn) => sw.setGateway({ ...(a.ipv4 ? { ipv4: a.ipv4 } : {}), ...(a.ipv6 ? { ipv6: a.ipv6 } : {}), ...(a.mac ? { mac: a.mac } : {}) }, { txn }));
        const gw = sw.gateway();
        showDone({ id: a.id, mac: gw.mac, ipv4: gw.ipv4, ipv6: gw.ipv6 });
      });
    }))
    .command('set-policy <id>', 'broadcast/multicast handling and the per-vmnic upcall rate (each one not given goes back to its default)', (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the switch' })
      .option('bum', { type: 'string', choices: ['local', 'drop'], describe: 'broadcast and multicast (other than ARP/ND/DHCP, which the switch answers): to the other local ports (default), or dropped and counted' })
      .option('upcall-rate', { type: 'number', coerce: rate('--upcall-rate'), describe: 'upcalls (L2 and L3 misses) one vmnic may raise a second (default 1000)' })
      .option('upcall-burst', { type: 'number', coerce: rate('--upcall-burst'), describe: 'how many at once (default: the rate)' })
      .option('ra-interval', { type: 'string', describe: "seconds between unsolicited router advertisements, 4-1800, or 'off' (default 600)" })
      .example('$0 switch set-policy $SW --bum drop --upcall-rate 100', ''),
    run((a: { id: string; bum?: 'local' | 'drop'; 'upcall-rate'?: number; 'upcall-burst'?: number; 'ra-interval'?: string }) => {
      let ra: number | 'off' | undefined;
      if (a['ra-interval'] !== undefined) {
        ra = a['ra-interval'] === 'off' ? 'off' : Number(a['ra-interval']);
        if (ra !== 'off' && (!Number.isInteger(ra) || ra < 4 || ra > 1800)) throw new UsageError(`--ra-interval: expected 4-1800 or 'off', got '${a['ra-interval']}'`);
      }
      using(Switch.open(a.id), (sw) => {
        withTxn(sw, (txn) => sw.setPolicy({
          ...(a.bum ? { bum: a.bum } : {}), ...(a['upcall-rate'] ? { upcallRate: a['upcall-rate'] } : {}),
          ...(a['upcall-burst'] ? { upcallBurst: a['upcall-burst'] } : {}), ...(ra !== undefined ? { raIntervalS: ra } : {}),
        }, { txn }));
        showDone({ id: a.id, ...sw.policy() });
      });
    }))
    .command('port', 'switch ports: add, list, del, count', portCommand)
    .demandCommand(1, 'name a switch command');
}
