// SPDX-License-Identifier: BSD-2-Clause
/** vpcctl vmnic create|get|set|set-mac|set-addr|set-dhcp|list|destroy */
import type { Argv } from 'yargs';
import { listObjects, Nic, newId, withTxn, type DhcpConfig, type DhcpOptions, type DhcpRoute } from '../../vpc/index.ts';
import { dhcpName, dhcpRoute, each, id, ifname, ip, leaseSeconds, nicMtu, unicastMac, UsageError } from '../args.ts';
import { showDone, showId, showList, showOne } from '../output.ts';
import { run, using } from '../run.ts';

export function nicView(nic: Nic): Record<string, unknown> {
  const info = nic.info();
  const m = nic.mtuInfo();
  return {
    id: nic.id, mac: nic.mac(), ifname: nic.ifname() || undefined, mtu: m.mtu, mtuDefault: m.isDefault,
    mtuForced: m.forced || undefined, mtuFit: m.fit, ...nic.addresses(), committed: info.committed,
    plugged: info.plugged, port: info.owned ? info.parentId : undefined, handles: info.handles - 1,
    generation: info.generation, dhcp: dhcpView(nic.dhcp()),
  };
}

/** What vmnic get shows of DHCP: undefined while off and never configured. */
function dhcpView(d: DhcpConfig): Record<string, unknown> | undefined {
  const configured = d.dns.length > 0 || d.routes.length > 0 || d.domain !== undefined || d.hostname !== undefined;
  if (!d.enabled && !configured) return undefined;
  return {
    enabled: d.enabled, leaseSeconds: d.leaseSeconds, dns: d.dns, domain: d.domain, hostname: d.hostname,
    routes: d.routes.map((r) => `${r.destination},${r.gateway}`),
  };
}

interface DhcpArgs {
  dhcp?: boolean;
  dns?: string[];
  domain?: string;
  hostname?: string;
  lease?: number;
  route?: DhcpRoute[];
}

/** The DHCP options of vmnic create and vmnic set-dhcp. */
function dhcpOptions<T>(b: Argv<T>): Argv<T> {
  return b
    .option('dns', { type: 'string', coerce: each(ip('--dns', 4)), describe: 'a DNS server (option 6), IPv4; repeat for up to 4' })
    .option('domain', { type: 'string', coerce: dhcpName('--domain'), describe: 'the domain name (option 15)' })
    .option('hostname', { type: 'string', coerce: dhcpName('--hostname'), describe: 'the host name (option 12)' })
    .option('lease', { type: 'string', coerce: leaseSeconds('--lease'), describe: 'the lease time in seconds (default 86400)' })
    .option('route', {
      type: 'string', coerce: each(dhcpRoute('--route')),
      describe: 'a classless static route (option 121), DESTINATION/PREFIX,GATEWAY; repeat for up to 8 (the default route via the switch\'s gateway is added)',
    }) as unknown as Argv<T>;
}

function dhcpFrom(a: DhcpArgs, enabled: boolean): DhcpOptions {
  return {
    enabled, ...(a.dns ? { dns: a.dns } : {}), ...(a.domain !== undefined ? { domain: a.domain } : {}),
    ...(a.hostname !== undefined ? { hostname: a.hostname } : {}), ...(a.lease !== undefined ? { leaseSeconds: a.lease } : {}),
    ...(a.route ? { routes: a.route } : {}),
  };
}

const anyDhcp = (a: DhcpArgs) => a.dns !== undefined || a.domain !== undefined || a.hostname !== undefined ||
  a.lease !== undefined || a.route !== undefined;

export function vmnicCommand(y: Argv): Argv {
  return y
    .command('create', 'create a vmnic (committed: it outlives this command); prints its id', (b) => dhcpOptions(b
      .option('id', { type: 'string', coerce: id('--id'), describe: 'its UUID (default: a new random one)' })
      .option('mac', { type: 'string', coerce: unicastMac('--mac'), describe: 'its MAC, e.g. 02:00:00:00:00:01' })
      .option('ifname', { type: 'string', coerce: ifname('--ifname'), describe: 'its interface name (host kernel: the TAP device), e.g. vm1' })
      .option('mtu', { type: 'string', coerce: nicMtu('--mtu'), describe: "its MTU, 1280-9000 (default: what the underlay carries, e.g. 1450 behind a 1500 IPv4 underlay)" })
      .option('force', { type: 'boolean', describe: 'accept an --mtu larger than the underlay carries (frames over it are answered with ICMP or dropped)' })
      .option('ip', { type: 'string', coerce: ip('--ip', 4), describe: "the VM's IPv4 address (the switch answers ARP for it, DHCP offers it; other IP sources are dropped)" })
      .option('ip6', { type: 'string', coerce: ip('--ip6', 6), describe: "the VM's IPv6 address (likewise for ND)" })
      .option('dhcp', { type: 'boolean', describe: "serve the VM DHCP (implied by the DHCP options below; it offers the --ip address)" })
      .example('$0 vmnic create --mac 02:00:00:00:00:01 --ifname vm1 --ip 10.0.0.5 --dhcp', '')
      .example('$0 vmnic create --mac 02:00:00:00:00:01 --mtu 1400', '')
      .example('$0 vmnic create --mac 02:00:00:00:00:01 --ip 10.0.0.5 --dns 203.0.113.53 --domain example.internal', '')),
    run((a: { id?: string; mac?: string; ifname?: string; mtu?: number | 'default'; force?: boolean; ip?: string; ip6?: string } & DhcpArgs) => {
      if (a.force && a.mtu === undefined) throw new UsageError('--force: only with --mtu');
      if (a.dhcp === false && anyDhcp(a)) throw new UsageError('--no-dhcp: not with DHCP options');
      const created = using(Nic.create(a.id ?? newId(), {
        ...(a.mac ? { mac: a.mac } : {}), ...(a.ifname ? { ifname: a.ifname } : {}),
        ...(typeof a.mtu === 'number' ? { mtu: a.mtu, forceMtu: a.force ?? false } : {}),
        ...(a.ip || a.ip6 ? { addresses: { ...(a.ip ? { ipv4: a.ip } : {}), ...(a.ip6 ? { ipv6: a.ip6 } : {}) } } : {}),
        ...(a.dhcp || anyDhcp(a) ? { dhcp: dhcpFrom(a, true) } : {}),
      }), (nic) => {
        nic.commit();
        return nic.id;
      });
      showId(created);
    }))
    .command('get <id>', 'show a vmnic', (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the vmnic' }),
    run((a: { id: string }) => {
      using(Nic.open(a.id), (nic) => showOne(nicView(nic)));
    }))
    .command('set <id>', "change a vmnic's attributes", (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the vmnic' })
      .option('mtu', { type: 'string', coerce: nicMtu('--mtu'), describe: "its MTU, 1280-9000, or 'default' (follow the underlay)" })
      .option('force', { type: 'boolean', describe: 'accept an --mtu larger than the underlay carries (frames over it are answered with ICMP or dropped)' })
      .example('$0 vmnic set 3f0c5e4a-9b1d-4c2e-8f6a-1b2c3d4e5f60 --mtu 1400', '')
      .example('$0 vmnic set 3f0c5e4a-9b1d-4c2e-8f6a-1b2c3d4e5f60 --mtu default', ''),
    run((a: { id: string; mtu?: number | 'default'; force?: boolean }) => {
      if (a.mtu === undefined) throw new UsageError('vmnic set: name something to change (--mtu)');
      if (a.force && a.mtu === 'default') throw new UsageError("--force: not with --mtu default");
      const mtu = a.mtu;
      using(Nic.open(a.id), (nic) => {
        nic.setMtu(mtu, { force: a.force ?? false });
        const m = nic.mtuInfo();
        showDone({ id: a.id, mtu: m.mtu, mtuDefault: m.isDefault });
      });
    }))
    .command('set-mac <id> <mac>', "set a vmnic's MAC (unique on its switch)", (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the vmnic' })
      .positional('mac', { type: 'string', coerce: unicastMac('mac'), describe: 'a unicast MAC, e.g. 02:00:00:00:00:01' })
      .example('$0 vmnic set-mac 3f0c5e4a-9b1d-4c2e-8f6a-1b2c3d4e5f60 02:00:00:00:00:01', ''),
    run((a: { id: string; mac: string }) => {
      using(Nic.open(a.id), (nic) => {
        nic.setMac(a.mac);
        showDone({ id: a.id, mac: a.mac });
      });
    }))
    .command('set-addr <id>', "set the VM's own addresses (a family not given: none)", (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the vmnic' })
      .option('ip', { type: 'string', coerce: ip('--ip', 4), describe: 'its IPv4 address' })
      .option('ip6', { type: 'string', coerce: ip('--ip6', 6), describe: 'its IPv6 address' })
      .option('none', { type: 'boolean', describe: 'no address at all' })
      .check((a) => {
        if (!a.ip && !a.ip6 && !a.none) throw new UsageError('give --ip and/or --ip6, or --none');
        if (a.none && (a.ip || a.ip6)) throw new UsageError('--none: not with --ip or --ip6');
        return true;
      })
      .example('$0 vmnic set-addr $NIC --ip 10.0.0.5 --ip6 2001:db8::5', ''),
    run((a: { id: string; ip?: string; ip6?: string }) => {
      using(Nic.open(a.id), (nic) => {
        withTxn(nic, (txn) => nic.setAddresses({ ...(a.ip ? { ipv4: a.ip } : {}), ...(a.ip6 ? { ipv6: a.ip6 } : {}) }, { txn }));
        showDone({ id: a.id, ...nic.addresses() });
      });
    }))
    .command('set-dhcp <id>', "serve the VM DHCP with these options (replaces its whole DHCP configuration)", (b) => dhcpOptions(b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the vmnic' })
      .option('disable', { type: 'boolean', describe: 'stop serving it (alone: keep the options configured)' })
      .example('$0 vmnic set-dhcp 3f0c5e4a-9b1d-4c2e-8f6a-1b2c3d4e5f60 --dns 203.0.113.53 --dns 203.0.113.54 --domain example.internal', '')
      .example('$0 vmnic set-dhcp 3f0c5e4a-9b1d-4c2e-8f6a-1b2c3d4e5f60 --route 198.51.100.0/24,203.0.113.254 --lease 3600', '')
      .example('$0 vmnic set-dhcp 3f0c5e4a-9b1d-4c2e-8f6a-1b2c3d4e5f60 --disable', '')),
    run((a: { id: string; disable?: boolean } & DhcpArgs) => {
      using(Nic.open(a.id), (nic) => {
        const o = a.disable && !anyDhcp(a) ? { ...nic.dhcp(), enabled: false } : dhcpFrom(a, !a.disable);
        nic.setDhcp(o);
        showDone({ id: a.id, dhcp: dhcpView(nic.dhcp()) });
      });
    }))
    .command('list', 'list vmnics', (b) => b,
      run(() => {
        showList(listObjects('vmnic').map((o) => using(Nic.open(o.id), nicView)), ['id', 'mac', 'ipv4', 'ipv6', 'ifname', 'mtu', 'committed', 'plugged', 'port']);
      }))
    .command('destroy <id>', 'remove a vmnic (EBUSY while plugged into a port: delete the port first)', (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the vmnic' }),
    run((a: { id: string }) => {
      using(Nic.open(a.id), (nic) => nic.destroy());
      showDone({ id: a.id });
    }))
    .demandCommand(1, 'name a vmnic command');
}
