/** vpcctl vmnic create|get|set-mac|list|destroy */
import type { Argv } from 'yargs';
import { listObjects, Nic, newId } from '../../vpc/index.ts';
import { id, ifname, unicastMac } from '../args.ts';
import { showDone, showId, showList, showOne } from '../output.ts';
import { run } from '../run.ts';

export function nicView(nic: Nic): Record<string, unknown> {
  const info = nic.info();
  return {
    id: nic.id, mac: nic.mac(), ifname: nic.ifname() || undefined, committed: info.committed,
    plugged: info.plugged, port: info.owned ? info.parentId : undefined, handles: info.handles - 1,
    generation: info.generation,
  };
}

export function vmnicCommand(y: Argv): Argv {
  return y
    .command('create', 'create a vmnic (committed: it outlives this command); prints its id', (b) => b
      .option('id', { type: 'string', coerce: id('--id'), describe: 'its UUID (default: a new random one)' })
      .option('mac', { type: 'string', coerce: unicastMac('--mac'), describe: 'its MAC, e.g. 02:00:00:00:00:01' })
      .option('ifname', { type: 'string', coerce: ifname('--ifname'), describe: 'its interface name (host kernel: the TAP device), e.g. vm1' })
      .example('$0 vmnic create --mac 02:00:00:00:00:01 --ifname vm1', ''),
    run((a: { id?: string; mac?: string; ifname?: string }) => {
      const nic = Nic.create(a.id ?? newId(), { ...(a.mac ? { mac: a.mac } : {}), ...(a.ifname ? { ifname: a.ifname } : {}) });
      nic.commit();
      showId(nic.id);
      nic.close();
    }))
    .command('get <id>', 'show a vmnic', (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the vmnic' }),
    run((a: { id: string }) => {
      const nic = Nic.open(a.id);
      showOne(nicView(nic));
      nic.close();
    }))
    .command('set-mac <id> <mac>', "set a vmnic's MAC (unique on its switch)", (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the vmnic' })
      .positional('mac', { type: 'string', coerce: unicastMac('mac'), describe: 'a unicast MAC, e.g. 02:00:00:00:00:01' })
      .example('$0 vmnic set-mac 3f0c5e4a-9b1d-4c2e-8f6a-1b2c3d4e5f60 02:00:00:00:00:01', ''),
    run((a: { id: string; mac: string }) => {
      const nic = Nic.open(a.id);
      nic.setMac(a.mac);
      showDone({ id: a.id, mac: a.mac });
      nic.close();
    }))
    .command('list', 'list vmnics', (b) => b,
      run(() => {
        showList(listObjects('vmnic').map((o) => {
          const nic = Nic.open(o.id);
          const v = nicView(nic);
          nic.close();
          return v;
        }), ['id', 'mac', 'ifname', 'committed', 'plugged', 'port']);
      }))
    .command('destroy <id>', 'remove a vmnic (EBUSY while plugged into a port: delete the port first)', (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the vmnic' }),
    run((a: { id: string }) => {
      const nic = Nic.open(a.id);
      nic.destroy();
      nic.close();
      showDone({ id: a.id });
    }))
    .demandCommand(1, 'name a vmnic command');
}
