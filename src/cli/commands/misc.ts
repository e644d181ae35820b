// SPDX-License-Identifier: BSD-2-Clause
/** vpcctl stats, status, and upcall watch|stats */
import type { Argv } from 'yargs';
import {
  kernelDescription, ping, Switch, systemStats, upcallStats, UpcallChannelError, UpcallStream, VpcUnavailableError,
} from '../../vpc/index.ts';
import { count, id } from '../args.ts';
import { isJson, showList, showOne, table } from '../output.ts';
import { OpFailed, run, using } from '../run.ts';

export function statsCommand(y: Argv): Argv {
  return y.positional('switch', { type: 'string', coerce: id('switch'), describe: 'the switch' });
}

export const statsHandler = run((a: { switch: string }) => {
  using(Switch.open(a.switch), (sw) => showOne({ switch: a.switch, ...sw.stats() }));
});

export const statusHandler = run(() => {
  const where = kernelDescription();
  try {
    ping();
  } catch (e) {
    if (e instanceof VpcUnavailableError) {
      // --json: one object, {kernel, reachable: false, error}.
      if (!isJson()) showOne({ kernel: where, reachable: false });
      throw new OpFailed(`${e.code}: the vpc kernel is not reachable at ${where}`,
        { code: e.code, op: e.op, extra: { kernel: where, reachable: false } });
    }
    throw e;
  }
  const s = systemStats();
  const u = upcallStats();
  showOne({
    kernel: where, reachable: true, objects: s.objects, ...Object.fromEntries(Object.entries(s.byType).filter(([, n]) => n)),
    handles: s.handles, coreBytes: s.memBytes, agentAttached: u.readers > 0, upcallsPending: u.pending, framesHeld: u.held,
    connRefused: s.connRefused,
  });
});

export function upcallCommand(y: Argv): Argv {
  return y
    .command('watch', 'show upcalls live (attaches as the reader: not while vpc-agent runs; what it reads is handed to the next reader)', (b) => b
      .option('count', { type: 'number', coerce: count('--count'), describe: 'stop after this many requests' })
      .option('timeout', { type: 'number', coerce: count('--timeout'), describe: 'stop after this many seconds' }),
    run(async (a: { count?: number; timeout?: number; json?: boolean }) => {
      let stream: UpcallStream;
      try {
        stream = await UpcallStream.open();
      } catch (e) {
        if (e instanceof UpcallChannelError) {
          throw new OpFailed(e.code === 'EBUSY' ? 'EBUSY: another upcall reader is attached (is vpc-agent running? use `vpcctl upcall stats`)' : `${e.code}: ${e.message}`,
            { code: e.code, op: 'upcall attach' });
        }
        throw e;
      }
      let seen = 0;
      const timer = a.timeout ? setTimeout(() => stream.close(), a.timeout * 1000) : undefined;
      if (!a.json) process.stdout.write(`${table([], ['kind', 'id', 'gen', 'switch', 'vni', 'vlan', 'src', 'dst', 'dstIp'])}\n`);
      for await (const batch of stream) {
        for (const r of batch) {
          const row = { kind: r.kind, id: r.id, gen: r.generation, switch: r.switchId, vni: r.vni, vlan: r.vlan, src: r.srcMac, dst: r.dstMac, dstIp: r.dstIp };
          process.stdout.write(a.json ? `${JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`
            : `${table([row], Object.keys(row)).split('\n')[1]}\n`);
          if (a.count && ++seen >= a.count) stream.close();
        }
      }
      clearTimeout(timer);
    }))
    .command('stats', 'the upcall queue: pending, held frames, reader', (b) => b,
      run(() => showOne({ ...upcallStats() })))
    .demandCommand(1, 'name an upcall command');
}

export { showList };
