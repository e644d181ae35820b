// SPDX-License-Identifier: BSD-2-Clause
/**
 * vpcctl link create|bind|unbind|get|list|destroy;
 * vpcctl nat create|get|list|config|set-link|attach|detach|eip|pool|snat|flows|destroy
 * (docs/nat.md).
 */
import type { Argv } from 'yargs';
import { Link, listObjects, Nat, newId, Router, type NatFlow } from '../../vpc/index.ts';
import { id, ifname, ip, unicastMac, UsageError } from '../args.ts';
import { showDone, showId, showList, showOne } from '../output.ts';
import { run, using } from '../run.ts';

function linkView(l: Link): Record<string, unknown> {
  const info = l.info();
  return { id: l.id, ...l.get(), committed: info.committed, stats: l.stats() };
}

function natView(n: Nat): Record<string, unknown> {
  const info = n.info();
  const att = n.attachments();
  return {
    id: n.id, link: att.linkId, router: att.routerId, committed: info.committed, config: n.config(),
    upstream: n.upstream(), eips: n.eips(), stats: n.stats(),
  };
}

const flowRow = (f: NatFlow): Record<string, unknown> => ({
  proto: f.proto === 6 ? 'tcp' : f.proto === 17 ? 'udp' : f.proto === 1 ? 'icmp' : String(f.proto),
  private: `${f.private}:${f.privatePort}`, external: `${f.external}:${f.externalPort}`,
  remote: `${f.remote}:${f.remotePort}`, state: f.state, idleMs: f.idleMs,
});

const seconds = (name: string) => (v: unknown): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 366 * 86400) throw new UsageError(`${name}: expected seconds 0-${366 * 86400}, got '${String(v)}'`);
  return n;
};
const u16 = (name: string, min: number) => (v: unknown): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > 65535) throw new UsageError(`${name}: expected ${min}-65535, got '${String(v)}'`);
  return n;
};

export function linkCommand(y: Argv): Argv {
  return y
    .command('create', 'create a link (committed); prints its id', (b) => b
      .option('id', { type: 'string', coerce: id('--id'), describe: 'its UUID (default: a new random one)' })
      .option('ifname', { type: 'string', coerce: ifname('--ifname'), describe: 'bind this interface of the node at once' }),
    run((a: { id?: string; ifname?: string }) => {
      showId(using(Link.create(a.id ?? newId()), (l) => {
        if (a.ifname !== undefined) l.bind(a.ifname);
        l.commit();
        return l.id;
      }));
    }))
    .command('bind <id> <ifname>', 'bind an Ethernet interface of the node (ENODEV: none such; EBUSY: another link has it)', (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the link' })
      .positional('ifname', { type: 'string', coerce: ifname('ifname'), describe: 'the interface' }),
    run((a: { id: string; ifname: string }) => {
      using(Link.open(a.id), (l) => l.bind(a.ifname));
      showDone({ id: a.id, ifname: a.ifname });
    }))
    .command('unbind <id>', 'let go of its interface', (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the link' }),
    run((a: { id: string }) => {
      using(Link.open(a.id), (l) => l.unbind());
      showDone({ id: a.id });
    }))
    .command('get <id>', 'show a link: interface, MAC, users, counters', (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the link' }),
    run((a: { id: string }) => {
      using(Link.open(a.id), (l) => showOne(linkView(l)));
    }))
    .command('list', 'list links', (b) => b,
      run(() => {
        showList(listObjects('link').map((o) => using(Link.open(o.id), linkView)), ['id', 'ifname', 'mac', 'users', 'committed']);
      }))
    .command('destroy <id>', 'remove a link (EBUSY while a NAT uses it)', (b) => b
      .positional('id', { type: 'string', coerce: id('id'), describe: 'the link' }),
    run((a: { id: string }) => {
      using(Link.open(a.id), (l) => l.destroy());
      showDone({ id: a.id });
    }))
    .demandCommand(1, 'name a link command');
}

export function natCommand(y: Argv): Argv {
  const natId = (b: Argv): Argv => b.positional('id', { type: 'string', coerce: id('id'), describe: 'the NAT' });
  return y
    .command('create', 'create a NAT (committed); prints its id', (b) => b
      .option('id', { type: 'string', coerce: id('--id'), describe: 'its UUID (default: a new random one)' }),
    run((a: { id?: string }) => {
      showId(using(Nat.create(a.id ?? newId()), (n) => {
        n.commit();
        return n.id;
      }));
    }))
    .command('get <id>', 'show a NAT: link, router, configuration, the upstream in use, EIPs, counters', natId,
      run((a: { id: string }) => {
        using(Nat.open(a.id), (n) => showOne(natView(n)));
      }))
    .command('list', 'list NATs', (b) => b,
      run(() => {
        showList(listObjects('nat').map((o) => using(Nat.open(o.id), natView)), ['id', 'link', 'router', 'committed']);
      }))
    .command('config <id>', 'flow table size, idle timeouts (0: the default) and the upstream gateway (MAC, or IPv4 address resolved by ARP)', (b) => natId(b)
      .option('upstream-mac', { type: 'string', coerce: unicastMac('--upstream-mac'), describe: "the outside next hop's MAC (where translated frames go)" })
      .option('upstream-ip', { type: 'string', coerce: ip('--upstream-ip', 4), conflicts: 'upstream-mac', describe: "...or its IPv4 address: the NAT resolves it by ARP on its link" })
      .option('max-flows', { type: 'number', describe: 'tracked SNAT flows at most (only while the NAT has no address configured)' })
      .option('tcp-incipient', { type: 'string', coerce: seconds('--tcp-incipient'), describe: 'seconds' })
      .option('tcp-established', { type: 'string', coerce: seconds('--tcp-established'), describe: 'seconds' })
      .option('tcp-closing', { type: 'string', coerce: seconds('--tcp-closing'), describe: 'seconds' })
      .option('udp', { type: 'string', coerce: seconds('--udp'), describe: 'seconds' })
      .option('icmp', { type: 'string', coerce: seconds('--icmp'), describe: 'seconds' }),
    run((a: { id: string; upstreamMac?: string; upstreamIp?: string; maxFlows?: number; tcpIncipient?: number; tcpEstablished?: number; tcpClosing?: number; udp?: number; icmp?: number }) => {
      if (a.maxFlows !== undefined && (!Number.isInteger(a.maxFlows) || a.maxFlows < 0 || a.maxFlows > 1 << 24)) {
        throw new UsageError(`--max-flows: expected 0-${1 << 24}, got '${String(a.maxFlows)}'`);
      }
      using(Nat.open(a.id), (n) => {
        n.configure({
          upstreamMac: a.upstreamMac, upstreamIp: a.upstreamIp, maxFlows: a.maxFlows, tcpIncipient: a.tcpIncipient, tcpEstablished: a.tcpEstablished,
          tcpClosing: a.tcpClosing, udp: a.udp, icmp: a.icmp,
        });
        showOne({ id: n.id, ...n.config() });
      });
    }))
    .command('set-link <id> [link]', 'the link it sends out of (none given: no link)', (b) => natId(b)
      .positional('link', { type: 'string', coerce: id('link'), describe: 'the link' }),
    run((a: { id: string; link?: string }) => {
      using(Nat.open(a.id), (n) => n.setLink(a.link));
      showDone({ id: a.id, link: a.link });
    }))
    .command('attach <id> <router>', "the router whose INTERNET routes lead to this NAT (one per router)", (b) => natId(b)
      .positional('router', { type: 'string', coerce: id('router'), describe: 'the router' }),
    run((a: { id: string; router: string }) => {
      using(Router.open(a.router), (r) => r.setNat(a.id));
      showDone({ id: a.id, router: a.router });
    }))
    .command('detach <router>', "take a router's NAT away (EBUSY while it has INTERNET routes)", (b) => b
      .positional('router', { type: 'string', coerce: id('router'), describe: 'the router' }),
    run((a: { router: string }) => {
      using(Router.open(a.router), (r) => r.setNat(undefined));
      showDone({ router: a.router });
    }))
    .command('eip <action> <id> [private] [external]', 'bind, unbind or list 1:1 external addresses', (b) => natId(b)
      .positional('action', { type: 'string', choices: ['bind', 'unbind', 'list'], describe: 'what to do' })
      .positional('private', { type: 'string', describe: "bind, unbind: the VM's address" })
      .positional('external', { type: 'string', coerce: ip('external', 4), describe: 'bind: the external address' }),
    run((a: { action: string; id: string; private?: string; external?: string }) => {
      using(Nat.open(a.id), (n) => {
        if (a.action === 'list') {
          showList(n.eips() as unknown as Array<Record<string, unknown>>, ['private', 'external']);
          return;
        }
        if (a.private === undefined) throw new UsageError(`eip ${a.action}: give the VM's address`);
        const priv = ip('private', 4)(a.private);
        if (a.action === 'bind') {
          if (a.external === undefined) throw new UsageError('eip bind: give the external address');
          n.bindEip(priv, a.external);
        } else n.unbindEip(priv);
        showDone({ id: a.id, private: priv, external: a.external });
      });
    }))
    .command('pool <action> <id> <external>', 'add or delete an SNAT address and its ports', (b) => natId(b)
      .positional('action', { type: 'string', choices: ['add', 'del'], describe: 'what to do' })
      .positional('external', { type: 'string', coerce: ip('external', 4), describe: 'the external address' })
      .option('lo', { type: 'string', coerce: u16('--lo', 1), describe: 'first port (default 1024)' })
      .option('hi', { type: 'string', coerce: u16('--hi', 1), describe: 'last port (default 65535)' })
      .option('block', { type: 'string', coerce: u16('--block', 1), describe: 'ports per private address and protocol (default 1024)' }),
    run((a: { action: string; id: string; external: string; lo?: number; hi?: number; block?: number }) => {
      using(Nat.open(a.id), (n) => {
        if (a.action === 'add') n.addPool(a.external, { lo: a.lo, hi: a.hi, block: a.block });
        else n.delPool(a.external);
      });
      showDone({ id: a.id, external: a.external });
    }))
    .command('snat <action> <id> <private> [external]', "bind a VM's address to a pool, unbind it, or show its blocks, flows and exhaustion", (b) => natId(b)
      .positional('action', { type: 'string', choices: ['bind', 'unbind', 'get'], describe: 'what to do' })
      .positional('private', { type: 'string', coerce: ip('private', 4), describe: "the VM's address" })
      .positional('external', { type: 'string', coerce: ip('external', 4), describe: "bind: the pool's address" }),
    run((a: { action: string; id: string; private: string; external?: string }) => {
      using(Nat.open(a.id), (n) => {
        if (a.action === 'get') {
          showOne(n.snat(a.private) as unknown as Record<string, unknown>);
          return;
        }
        if (a.action === 'bind') {
          if (a.external === undefined) throw new UsageError("snat bind: give the pool's address");
          n.bindSnat(a.private, a.external);
        } else n.unbindSnat(a.private);
        showDone({ id: a.id, private: a.private, external: a.external });
      });
    }))
    .command('flows <id>', 'every SNAT flow', natId,
      run((a: { id: string }) => {
        showList(using(Nat.open(a.id), (n) => n.flows()).map(flowRow), ['proto', 'private', 'external', 'remote', 'state', 'idleMs']);
      }))
    .command('destroy <id>', 'remove a NAT (EBUSY while a router uses it)', natId,
      run((a: { id: string }) => {
        using(Nat.open(a.id), (n) => n.destroy());
        showDone({ id: a.id });
      }))
    .demandCommand(1, 'name a nat command');
}
