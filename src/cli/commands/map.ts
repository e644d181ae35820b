// SPDX-License-Identifier: BSD-2-Clause
/** vpcctl map set|get|del|list: the mapping directory, file or etcd. */
import type { Argv } from 'yargs';
// The directory (and with it etcd's gRPC client) loads only when a map
// command runs: every other vpcctl command starts faster without it.
import type { Directory, Mapping } from '../../directory/index.ts';
import { ip, port, unicastMac, UsageError, vni } from '../args.ts';
import { showDone, showList, showOne } from '../output.ts';
import { OpFailed, run, using } from '../run.ts';

const DEFAULT_FILE = process.env.VPC_MAPPINGS ?? '/etc/vpc/mappings.json';

interface Backend {
  mappings?: string;
  'etcd-endpoints'?: string;
  'etcd-prefix'?: string;
}

function backendOptions(y: Argv): Argv {
  return y
    .option('mappings', { type: 'string', describe: `the mapping file (default $VPC_MAPPINGS or ${DEFAULT_FILE})` })
    .option('etcd-endpoints', { type: 'string', describe: 'use etcd instead: comma-separated URLs, e.g. http://127.0.0.1:2379' })
    .option('etcd-prefix', { type: 'string', describe: 'etcd key prefix (default /vpc/mappings)' })
    .check((a) => {
      if (a.mappings && a['etcd-endpoints']) throw new UsageError('give --mappings or --etcd-endpoints, not both');
      const eps = a['etcd-endpoints'] as string | undefined;
      if (eps !== undefined && eps.split(',').some((e) => !/^https?:\/\/[^/]+$/.test(e.trim()))) {
        throw new UsageError(`--etcd-endpoints: expected URLs like http://127.0.0.1:2379, got '${eps}'`);
      }
      return true;
    });
}

async function open(a: Backend): Promise<Directory> {
  const { openDirectory } = await import('../../directory/index.ts');
  if (a['etcd-endpoints']) {
    return openDirectory({ kind: 'etcd', endpoints: a['etcd-endpoints'].split(',').map((s) => s.trim()), ...(a['etcd-prefix'] ? { prefix: a['etcd-prefix'] } : {}) });
  }
  return openDirectory({ kind: 'file', path: a.mappings ?? DEFAULT_FILE });
}

async function withDirectory<T>(a: Backend, fn: (d: Directory) => Promise<T>): Promise<T> {
  return using(await open(a), fn);
}

function view(m: Mapping): Record<string, unknown> {
  return { vni: m.vni, mac: m.mac, vtep: m.vtep, port: m.port, ip: m.ip, ip6: m.ip6, revision: m.revision };
}

const key = (b: Argv) => b
  .positional('vni', { type: 'string', coerce: vni('vni'), describe: 'the VNI' })
  .positional('mac', { type: 'string', coerce: unicastMac('mac'), describe: 'the MAC' });

export function mapCommand(y: Argv): Argv {
  return backendOptions(y)
    .command('set <vni> <mac> <vtep>', 'map (VNI, MAC) to the VTEP of the node that hosts it, with the VM\'s addresses (adds or moves; an address has one MAC within a VNI)', (b) => key(b)
      .positional('vtep', { type: 'string', coerce: ip('vtep'), describe: 'the underlay address of its node\'s vcc' })
      .option('port', { type: 'number', coerce: port('--port'), describe: 'the VTEP\'s UDP port if not 4789' })
      .option('ip', { type: 'string', coerce: ip('--ip', 4), describe: 'the VM\'s IPv4 address: ARP for it is answered with this MAC' })
      .option('ip6', { type: 'string', coerce: ip('--ip6', 6), describe: 'the VM\'s IPv6 address: neighbour solicitations likewise' })
      .example('$0 map set 100 02:00:00:00:02:02 198.51.100.2 --ip 10.0.0.2', ''),
    run((a: Backend & { vni: number; mac: string; vtep: string; port?: number; ip?: string; ip6?: string }) => withDirectory(a, async (d) => {
      const m = await d.set({ vni: a.vni, mac: a.mac, vtep: a.vtep, ...(a.port ? { port: a.port } : {}), ...(a.ip ? { ip: a.ip } : {}), ...(a.ip6 ? { ip6: a.ip6 } : {}) });
      showDone(view(m));
    })))
    .command('get <vni> <mac>', 'where (VNI, MAC) lives', (b) => key(b),
      run((a: Backend & { vni: number; mac: string }) => withDirectory(a, async (d) => {
        const m = await d.get(a.vni, a.mac);
        if (!m) throw new OpFailed(`ENOENT: no mapping for VNI ${a.vni} MAC ${a.mac} in ${d.where}`, { code: 'ENOENT', op: 'map get' });
        showOne(view(m));
      })))
    .command('del <vni> <mac>', 'remove a mapping', (b) => key(b),
      run((a: Backend & { vni: number; mac: string }) => withDirectory(a, async (d) => {
        if (!(await d.del(a.vni, a.mac))) throw new OpFailed(`ENOENT: no mapping for VNI ${a.vni} MAC ${a.mac} in ${d.where}`, { code: 'ENOENT', op: 'map del' });
        showDone({ vni: a.vni, mac: a.mac });
      })))
    .command('list', 'every mapping (of one VNI with --vni)', (b) => b
      .option('vni', { type: 'number', coerce: vni('--vni'), describe: 'only this VNI' }),
    run((a: Backend & { vni?: number }) => withDirectory(a, async (d) => {
      showList((await d.list(a.vni)).map(view), ['vni', 'mac', 'vtep', 'port', 'ip', 'ip6', 'revision']);
    })))
    .demandCommand(1, 'name a map command');
}
