// SPDX-License-Identifier: BSD-2-Clause
/**
 * vpcctl: the operator's command line for every vpc object (see
 * docs/vpcctl.md, generated from these definitions).  Over src/vpc and
 * src/directory only.
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { camCommand } from './commands/cam.ts';
import { fwCommand } from './commands/fw.ts';
import { mapCommand } from './commands/map.ts';
import { nbrCommand } from './commands/nbr.ts';
import { statsCommand, statsHandler, statusHandler, upcallCommand } from './commands/misc.ts';
import { switchCommand } from './commands/switch.ts';
import { linkCommand, natCommand } from './commands/nat.ts';
import { routeCommand, routerCommand } from './commands/router.ts';
import { vccCommand } from './commands/vcc.ts';
import { vmnicCommand } from './commands/vmnic.ts';
import { setJson } from './output.ts';
import { jsonError } from './run.ts';

export function vpcctl(argv: string[]): Argv {
  return yargs(argv)
    .scriptName('vpcctl')
    .usage('$0 <command> [options]\n\nManage vpc objects: vmnics, switches and their ports, forwarding entries,\nthe vcc, the mapping directory, upcalls.  Objects are named by UUID; create\nprints the new id; objects made here are committed (they outlive the command).\nExit status: 0 done, 1 the operation failed, 2 usage error.')
    .option('json', { type: 'boolean', global: true, describe: 'print JSON (a stable shape) instead of a table' })
    .option('socket', { type: 'string', global: true, describe: 'host kernel: vpc-hostd\'s socket (default $VPC_HOSTD_SOCKET or /run/vpc/hostd.sock)' })
    .middleware((a) => {
      setJson(Boolean(a.json));
      if (a.socket) process.env.VPC_HOSTD_SOCKET = a.socket as string;
    })
    .command('vmnic', 'VM NICs: create, get, set, set-mac, set-addr, set-dhcp, list, destroy', vmnicCommand)
    .command('switch', 'switches and their ports: create, get, list, destroy, set-vni, set-subnet, set-gateway, set-policy, port ...', switchCommand)
    .command('cam', 'forwarding entries: set, get, del, flush, dump', camCommand)
    .command('nbr', 'neighbour entries (IP -> MAC, what ARP/ND are answered from): set, get, del, flush, dump', nbrCommand)
    .command('vcc', 'the underlay endpoint: create, get, set', vccCommand)
    .command('router', 'routers between subnets: create, get, list, attach, detach, destroy', routerCommand)
    .command('route', "a router's routes: add, del, list, get, replace", routeCommand)
    .command('nat', "NAT (EIPs, SNAT) for a router's VMs: create, get, list, config, set-link, attach, detach, eip, pool, snat, flows, destroy", natCommand)
    .command('link', "the node's interfaces a NAT sends out of: create, bind, unbind, get, list, destroy", linkCommand)
    .command('fw', 'port firewall (security groups): create, destroy, list, get, rules, show, set, export, import, attach, flows, config', fwCommand)
    .command('stats <switch>', "a switch's data-path and miss counters", statsCommand, statsHandler)
    .command('map', 'the mapping directory (file or etcd): set, get, del, list', mapCommand)
    .command('upcall', 'upcalls: watch, stats', upcallCommand)
    .command('status', 'is the kernel there; what it holds; is an agent attached', (b) => b, statusHandler)
    .demandCommand(1, 'name a command')
    .recommendCommands()
    .strict()
    .help()
    .alias('help', 'h')
    .version(false)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err, y) => {
      if (err && !msg) throw err;
      // --json may not have been parsed yet (the failure can come first).
      if (argv.includes('--json')) {
        process.stdout.write(`${JSON.stringify({ error: jsonError(msg ?? err?.message ?? 'usage error', { code: 'EINVAL', op: 'usage' }) }, null, 2)}\n`);
      }
      process.stderr.write(`vpcctl: ${msg ?? err?.message}\n\n`);
      y.showHelp((s: string) => process.stderr.write(`${s}\n`));
      process.exit(2);
    });
}

// Run as the program (bin/vpcctl.js), not when imported (the docs generator).
// No top-level await: the build is CommonJS (scripts/build.mjs).
if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('vpcctl.js')) {
  void vpcctl(hideBin(process.argv)).parseAsync();
}
