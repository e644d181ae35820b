// SPDX-License-Identifier: BSD-2-Clause
/** vpcctl vcc create|get|set */
import type { Argv } from 'yargs';
import { newId, Vcc, type VccConfig } from '../../vpc/index.ts';
import { id, ifname, ip, mtu, port, UsageError } from '../args.ts';
import { showDone, showId, showOne } from '../output.ts';
import { run, using } from '../run.ts';

function options(b: Argv): Argv {
  return b
    .option('ipv4', { type: 'string', coerce: ip('--ipv4', 4), describe: 'the underlay IPv4 address VXLAN is sent from and received on' })
    .option('ipv6', { type: 'string', coerce: ip('--ipv6', 6), describe: 'the underlay IPv6 address' })
    .option('port', { type: 'number', coerce: port('--port'), describe: 'the UDP port (default 4789)' })
    .option('mtu', { type: 'number', coerce: mtu('--mtu'), describe: 'the underlay MTU (default 1500): bigger VXLAN is dropped, never fragmented' })
    .option('l2', { type: 'string', coerce: ifname('--l2'), describe: 'VNI 0 switches: the raw L2 device their uplink uses' })
    .check((a) => {
      if (!a.ipv4 && !a.ipv6) throw new UsageError('give --ipv4 and/or --ipv6');
      return true;
    });
}

function config(a: { ipv4?: string; ipv6?: string; port?: number; mtu?: number; l2?: string }): VccConfig {
  return {
    ...(a.ipv4 ? { ipv4: a.ipv4 } : {}), ...(a.ipv6 ? { ipv6: a.ipv6 } : {}), ...(a.port ? { port: a.port } : {}),
    ...(a.mtu ? { mtu: a.mtu } : {}), ...(a.l2 ? { l2Interface: a.l2 } : {}),
  };
}

export function vccCommand(y: Argv): Argv {
  return y
    .command('create', "create this node's underlay endpoint (committed); prints its id", (b) => options(b)
      .option('id', { type: 'string', coerce: id('--id'), describe: 'its UUID (default: a new random one)' })
      .example('$0 vcc create --ipv4 198.51.100.1', ''),
    run((a: { id?: string; ipv4?: string; ipv6?: string; port?: number; mtu?: number; l2?: string }) => {
      showId(using(Vcc.create(a.id ?? newId(), config(a)), (vcc) => {
        vcc.commit();
        return vcc.id;
      }));
    }))
    .command('get <id>', 'show a vcc: its configuration and counters', (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the vcc' }),
    run((a: { id: string }) => {
      using(Vcc.open(a.id), (vcc) => {
        const info = vcc.info();
        showOne({ id: vcc.id, ...vcc.config(), uplinks: info.plugged, committed: info.committed, stats: vcc.stats() });
      });
    }))
    .command('set <id>', "change a vcc's addresses, port, MTU or L2 device", (b) => options(b)
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the vcc' }),
    run((a: { id: string; ipv4?: string; ipv6?: string; port?: number; mtu?: number; l2?: string }) => {
      using(Vcc.open(a.id), (vcc) => vcc.configure(config(a)));
      showDone({ id: a.id });
    }))
    .demandCommand(1, 'name a vcc command');
}
