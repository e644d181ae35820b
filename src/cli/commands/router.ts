// SPDX-License-Identifier: BSD-2-Clause
/** vpcctl router create|get|list|attach|detach|destroy, vpcctl route add|del|list|replace */
import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { listObjects, newId, Router, Switch, type Route, type RouteSpec } from '../../vpc/index.ts';
import { cidr, id, ip, unicastMac, UsageError } from '../args.ts';
import { showDone, showId, showList, showOne } from '../output.ts';
import { run, using } from '../run.ts';

function routerView(r: Router): Record<string, unknown> {
  const info = r.info();
  const atts = r.attachments();
  return {
    id: r.id, attached: atts.length, committed: info.committed, generation: info.generation,
    attachments: atts.map((a) => ({ switch: a.switchId, vni: a.vni, ...a.gateway })),
    routes: r.routes.list().length,
    stats: r.stats(),
  };
}

const routeRow = (r: Route): Record<string, unknown> => ({
  destination: r.destination, target: r.target, class: r.class, nextHop: r.nextHop, switch: r.switchId,
  unusable: r.unusable, serial: r.serial,
});

interface TargetArgs { subnet?: string; nextHop?: string; internet?: boolean; drop?: boolean }

function targetOptions(b: Argv): Argv {
  return b
    .option('subnet', { type: 'string', coerce: id('--subnet'), describe: 'to an attached switch (its id)' })
    .option('next-hop', { type: 'string', coerce: ip('--next-hop'), describe: 'to a next hop in an attached subnet' })
    .option('internet', { type: 'boolean', describe: "to the router's NAT (vpcctl nat attach)" })
    .option('drop', { type: 'boolean', describe: 'nowhere: dropped, ICMP unreachable' })
    .check((a) => {
      const n = [a.subnet, a['next-hop'], a.internet, a.drop].filter((v) => v !== undefined && v !== false).length;
      if (n !== 1) throw new UsageError('give exactly one of --subnet, --next-hop, --internet, --drop');
      return true;
    });
}

function routeSpec(destination: string, a: TargetArgs): RouteSpec {
  if (a.subnet !== undefined) return { destination, subnet: a.subnet };
  if (a.nextHop !== undefined) return { destination, nextHop: a.nextHop };
  if (a.internet) return { destination, internet: true };
  return { destination, drop: true };
}

/* A routes file: a JSON array of {destination, subnet | nextHop | internet | drop}. */
function readRoutes(file: string): RouteSpec[] {
  let v: unknown;
  try {
    v = JSON.parse(file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`--file: ${(e as Error).message}`);
  }
  if (!Array.isArray(v) || v.some((r) => typeof r !== 'object' || r === null || typeof (r as RouteSpec).destination !== 'string')) {
    throw new UsageError('--file: expected a JSON array of {"destination": "10.9.0.0/16", "nextHop": "10.2.0.5"} (or subnet, internet, drop)');
  }
  return v as RouteSpec[];
}

export function routerCommand(y: Argv): Argv {
  return y
    .command('create', 'create a router (committed); prints its id', (b) => b
      .option('id', { type: 'string', coerce: id('--id'), describe: 'its UUID (default: a new random one); the same on every node' })
      .example('$0 router create --id 6f1c...', ''),
    run((a: { id?: string }) => {
      showId(using(Router.create(a.id ?? newId()), (r) => {
        r.commit();
        return r.id;
      }));
    }))
    .command('get <id>', 'show a router: attachments, route count, counters', (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the router' }),
    run((a: { id: string }) => {
      using(Router.open(a.id), (r) => showOne(routerView(r)));
    }))
    .command('list', 'list routers', (b) => b,
      run(() => {
        showList(listObjects('router').map((o) => using(Router.open(o.id), routerView)), ['id', 'attached', 'routes', 'committed']);
      }))
    .command('attach <id> <switch>', "attach a switch through its router port (added if it has none); its gateway is the router's interface there", (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the router' })
      .positional('switch', { type: 'string', coerce: id('switch'), describe: 'the switch' })
      .option('gateway-ipv4', { type: 'string', coerce: ip('--gateway-ipv4', 4), describe: "set the switch's IPv4 gateway first" })
      .option('gateway-ipv6', { type: 'string', coerce: ip('--gateway-ipv6', 6), describe: "set the switch's IPv6 gateway first" })
      .option('gateway-mac', { type: 'string', coerce: unicastMac('--gateway-mac'), describe: "set the switch's gateway MAC first" }),
    run((a: { id: string; switch: string; gatewayIpv4?: string; gatewayIpv6?: string; gatewayMac?: string }) => {
      using(Router.open(a.id), (r) => using(Switch.open(a.switch), (sw) => r.attach(sw, {
        gateway: {
          ...(a.gatewayIpv4 ? { ipv4: a.gatewayIpv4 } : {}), ...(a.gatewayIpv6 ? { ipv6: a.gatewayIpv6 } : {}),
          ...(a.gatewayMac ? { mac: a.gatewayMac } : {}),
        },
      })));
      showDone({ id: a.id, switch: a.switch });
    }))
    .command('detach <id> <switch>', 'detach a switch (its router port stays, empty)', (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the router' })
      .positional('switch', { type: 'string', coerce: id('switch'), describe: 'the switch' }),
    run((a: { id: string; switch: string }) => {
      using(Router.open(a.id), (r) => r.detach(a.switch));
      showDone({ id: a.id, switch: a.switch });
    }))
    .command('destroy <id>', 'remove a router (detached from every switch first)', (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the router' }),
    run((a: { id: string }) => {
      using(Router.open(a.id), (r) => r.destroy());
      showDone({ id: a.id });
    }))
    .demandCommand(1, 'name a router command');
}

export function routeCommand(y: Argv): Argv {
  return y
    .command('add <router> <destination>', 'add a custom route', (b) => targetOptions(b
      .positional('router', { type: 'string', coerce: id('router'), describe: 'the router' })
      .positional('destination', { type: 'string', coerce: cidr('destination'), describe: 'a prefix: 10.9.0.0/16, 0.0.0.0/0, 2001:db8::/32' }))
      .example('$0 route add $R 10.9.0.0/16 --next-hop 10.2.0.5', ''),
    run((a: TargetArgs & { router: string; destination: string }) => {
      using(Router.open(a.router), (r) => r.routes.set(routeSpec(a.destination, a)));
      showDone({ router: a.router, destination: a.destination });
    }))
    .command('del <router> <destination>', 'delete the custom route with exactly this destination and target', (b) => targetOptions(b
      .positional('router', { type: 'string', coerce: id('router'), describe: 'the router' })
      .positional('destination', { type: 'string', coerce: cidr('destination'), describe: 'its prefix' })),
    run((a: TargetArgs & { router: string; destination: string }) => {
      using(Router.open(a.router), (r) => r.routes.del(routeSpec(a.destination, a)));
      showDone({ router: a.router, destination: a.destination });
    }))
    .command('list <router>', 'every route: connected and custom, in order of creation', (b) => b
      .positional('router', { type: 'string', coerce: id('router'), describe: 'the router' }),
    run((a: { router: string }) => {
      showList(using(Router.open(a.router), (r) => r.routes.list()).map(routeRow),
        ['destination', 'target', 'class', 'nextHop', 'switch', 'unusable']);
    }))
    .command('get <router> <address>', 'the route an address takes (longest prefix, custom over connected, the older)', (b) => b
      .positional('router', { type: 'string', coerce: id('router'), describe: 'the router' })
      .positional('address', { type: 'string', coerce: ip('address'), describe: 'an IPv4 or IPv6 address' }),
    run((a: { router: string; address: string }) => {
      showOne(routeRow(using(Router.open(a.router), (r) => r.routes.lookup(a.address))));
    }))
    .command('replace <router>', 'replace every custom route at once, any number up to the cap (readers see the old table or the new)', (b) => b
      .positional('router', { type: 'string', coerce: id('router'), describe: 'the router' })
      .option('file', { type: 'string', demandOption: true, describe: 'a JSON array of {"destination", and "subnet" | "nextHop" | "internet" | "drop"}; - for stdin' }),
    run((a: { router: string; file: string }) => {
      const routes = readRoutes(a.file);
      using(Router.open(a.router), (r) => r.routes.replace(routes));
      showDone({ router: a.router, routes: routes.length });
    }))
    .demandCommand(1, 'name a route command');
}
