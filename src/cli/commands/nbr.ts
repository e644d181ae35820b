// SPDX-License-Identifier: BSD-2-Clause
/** vpcctl nbr set|get|del|flush|dump: a switch's neighbour table (IP -> MAC). */
import type { Argv } from 'yargs';
import { Switch, type NeighbourEntry } from '../../vpc/index.ts';
import { count, id, ip, ms, unicastMac, UsageError } from '../args.ts';
import { showDone, showList, showOne } from '../output.ts';
import { OpFailed, run, using } from '../run.ts';

const COLUMNS = ['ip', 'kind', 'mac', 'ttlMs', 'used', 'revision', 'localPort'];

function view(e: NeighbourEntry): Record<string, unknown> {
  return { ...e };
}

const sw = (b: Argv) => b.positional('switch', { type: 'string', coerce: id('switch'), describe: 'the switch' });
const addr = (b: Argv) => sw(b).positional('ip', { type: 'string', coerce: ip('ip'), describe: 'an IPv4 or IPv6 address in the switch\'s subnet' });

export function nbrCommand(y: Argv): Argv {
  return y
    .command('set <switch> <ip>', 'install a neighbour entry: the MAC that has an address, or a negative one', (b) => addr(b)
      .option('mac', { type: 'string', coerce: unicastMac('--mac'), describe: 'the MAC that has the address' })
      .option('negative', { type: 'boolean', describe: 'the address is known absent: ARP/NS for it are not answered' })
      .option('ttl', { type: 'number', coerce: ms('--ttl'), describe: 'milliseconds it lives (default 0: static)' })
      .option('revision', { type: 'number', coerce: count('--revision'), describe: 'the directory revision: an older one than stored is skipped (exit 1, ESTALE)' })
      .check((a) => {
        if (!a.mac === !a.negative) throw new UsageError('give exactly one of --mac and --negative');
        return true;
      })
      .example('$0 nbr set $SW 10.0.0.7 --mac 02:00:00:00:02:02 --ttl 60000', ''),
    run((a: { switch: string; ip: string; mac?: string; negative?: boolean; ttl?: number; revision?: number }) => {
      using(Switch.open(a.switch), (s) => {
        const r = s.neighbours.set([{
          ip: a.ip, kind: a.negative ? 'negative' : 'found', ...(a.mac ? { mac: a.mac } : {}), ttlMs: a.ttl ?? 0, revision: a.revision ?? 0,
        }]);
        if (r.applied === 0) throw new OpFailed('ESTALE: not applied: the stored entry has a newer revision', { code: 'ESTALE', op: 'nbr set' });
      });
      showDone({ switch: a.switch, ip: a.ip });
    }))
    .command('get <switch> <ip>', 'show one entry', (b) => addr(b),
      run((a: { switch: string; ip: string }) => {
        using(Switch.open(a.switch), (s) => showOne(view(s.neighbours.get(a.ip))));
      }))
    .command('del <switch> <ip>', 'remove one entry (not a local vmnic\'s)', (b) => addr(b),
      run((a: { switch: string; ip: string }) => {
        using(Switch.open(a.switch), (s) => s.neighbours.del(a.ip));
        showDone({ switch: a.switch, ip: a.ip });
      }))
    .command('flush <switch>', 'remove every entry but the local vmnics\'', (b) => sw(b),
      run((a: { switch: string }) => {
        using(Switch.open(a.switch), (s) => showOne({ flushed: s.neighbours.flush() }));
      }))
    .command('dump <switch>', 'every entry of a switch', (b) => sw(b),
      run((a: { switch: string }) => {
        using(Switch.open(a.switch), (s) => showList(s.neighbours.dump().map(view), COLUMNS));
      }))
    .demandCommand(1, 'name an nbr command');
}
