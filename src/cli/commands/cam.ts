// SPDX-License-Identifier: BSD-2-Clause
/** vpcctl cam set|get|del|flush|dump */
import type { Argv } from 'yargs';
import { camFlushVni, Switch, type CamEntry } from '../../vpc/index.ts';
import { count, id, ip, mac, ms, port, unicastMac, UsageError, vni } from '../args.ts';
import { showDone, showList, showOne } from '../output.ts';
import { OpFailed, run, using } from '../run.ts';

const COLUMNS = ['dst', 'src', 'kind', 'vtep', 'port', 'ttlMs', 'used', 'revision', 'localPort'];

function view(e: CamEntry): Record<string, unknown> {
  return { ...e };
}

const sw = (b: Argv) => b.positional('switch', { type: 'string', coerce: id('switch'), describe: 'the switch' });

export function camCommand(y: Argv): Argv {
  return y
    .command('set <switch> <mac>', 'install a forwarding entry: a remote MAC behind a VTEP, or a negative one', (b) => sw(b)
      .positional('mac', { type: 'string', coerce: unicastMac('mac'), describe: 'the destination MAC' })
      .option('vtep', { type: 'string', coerce: ip('--vtep'), describe: 'the VTEP\'s underlay address (IPv4 or IPv6)' })
      .option('port', { type: 'number', coerce: port('--port'), describe: 'the VTEP\'s UDP port (default 4789)' })
      .option('negative', { type: 'boolean', describe: 'the MAC is known absent: drop frames to it' })
      .option('ttl', { type: 'number', coerce: ms('--ttl'), describe: 'milliseconds it lives (default 0: static)' })
      .option('src', { type: 'string', coerce: unicastMac('--src'), describe: 'only for frames from this source MAC' })
      .option('revision', { type: 'number', coerce: count('--revision'), describe: 'the directory revision: an older one than stored is skipped (exit 1, ESTALE)' })
      .check((a) => {
        if (!a.vtep === !a.negative) throw new UsageError('give exactly one of --vtep and --negative');
        if (a.negative && a.port) throw new UsageError('--port goes with --vtep');
        return true;
      })
      .example('$0 cam set $SW 02:00:00:00:02:02 --vtep 198.51.100.2 --ttl 60000', ''),
    run((a: { switch: string; mac: string; vtep?: string; port?: number; negative?: boolean; ttl?: number; src?: string; revision?: number }) => {
      const r = using(Switch.open(a.switch), (s) => s.camSet([{
        dst: a.mac, kind: a.negative ? 'negative' : 'remote', ...(a.vtep ? { vtep: a.vtep } : {}), ...(a.port ? { port: a.port } : {}),
        ttlMs: a.ttl ?? 0, ...(a.src ? { src: a.src } : {}), revision: a.revision ?? 0,
      }]));
      // An outcome of the operation, not a usage error: exit 1, code ESTALE.
      if (r.applied === 0) throw new OpFailed('ESTALE: not applied: the stored entry has a newer revision', { code: 'ESTALE', op: 'cam set' });
      showDone({ switch: a.switch, mac: a.mac });
    }))
    .command('get <switch> <mac>', 'show one entry', (b) => sw(b)
      .positional('mac', { type: 'string', coerce: mac('mac'), describe: 'the destination MAC' })
      .option('src', { type: 'string', coerce: mac('--src'), describe: 'the source MAC of a source-specific entry' }),
    run((a: { switch: string; mac: string; src?: string }) => {
      using(Switch.open(a.switch), (s) => showOne(view(s.camGet(a.mac, a.src))));
    }))
    .command('del <switch> <mac>', 'remove one entry (not a local port\'s)', (b) => sw(b)
      .positional('mac', { type: 'string', coerce: mac('mac'), describe: 'the destination MAC' })
      .option('src', { type: 'string', coerce: mac('--src'), describe: 'the source MAC of a source-specific entry' }),
    run((a: { switch: string; mac: string; src?: string }) => {
      using(Switch.open(a.switch), (s) => s.camDel(a.mac, a.src));
      showDone({ switch: a.switch, mac: a.mac });
    }))
    .command('flush [switch]', 'remove every entry but the local ports\': of one switch, one VNI (--vni) or all (--all)', (b) => b
      .positional('switch', { type: 'string', coerce: id('switch'), describe: 'the switch' })
      .option('vni', { type: 'number', coerce: vni('--vni'), describe: 'every switch carrying this VNI' })
      .option('all', { type: 'boolean', describe: 'every switch' })
      .check((a) => {
        if ([a.switch !== undefined, a.vni !== undefined, !!a.all].filter(Boolean).length !== 1) throw new UsageError('give exactly one of a switch, --vni N, --all');
        return true;
      }),
    run((a: { switch?: string; vni?: number; all?: boolean }) => {
      const flushed = a.switch ? using(Switch.open(a.switch), (s) => s.camFlush()) : camFlushVni(a.vni);
      showOne({ flushed });
    }))
    .command('dump <switch>', 'every entry of a switch', (b) => sw(b),
      run((a: { switch: string }) => {
        using(Switch.open(a.switch), (s) => showList(s.camDump().map(view), COLUMNS));
      }))
    .demandCommand(1, 'name a cam command');
}
