// SPDX-License-Identifier: BSD-2-Clause
/**
 * Type tests of src/vpc's public API, in the manner of pino's test/types:
 * never run, only type-checked (tsc -p tsconfig.json in test/static.test.ts
 * includes test/**). Each `expectType<T>(x)` fails to compile when x is not
 * exactly T, and each `@ts-expect-error` fails to compile when the line
 * below it stops being an error: so a change that widens, narrows or
 * renames what callers see shows up here, beside the runtime tests.
 */
import {
  camFlushVni, checkInvariants, listObjects, Nic, Switch, SWITCH_COUNTERS, systemStats, UpcallStream, Vcc,
  VpcNotFoundError, withTxn, withTxnAsync, type VpcError,
  type AddedPort, type CamEntry, type DhcpConfig, type GatewayInfo, type Id, type NeighbourEntry, type ObjectInfo,
  type ObjectType, type PortInfo, type SwitchStats, type UpcallRequest, type VccConfig, type VccStats,
  Router, type Attachment, type Route, type RouterStats,
  Link, Nat, type LinkInfo, type NatConfig, type NatFlow, type NatStats, type SnatBinding,
} from '../../src/vpc/index.ts';

/** Exact type equality: T and U each assignable to the other, any not let through. */
type Equal<T, U> = (<G>() => G extends T ? 1 : 2) extends (<G>() => G extends U ? 1 : 2) ? true : false;
function expectType<T>(value: T): T { return value; }
function expectExact<T, U>(_proof: Equal<T, U>): void { /* compile-time only */ }

export function objects(): void {
  const nic = Nic.create(undefined, { mac: '02:00:00:00:00:01', mtu: 1450, addresses: { ipv4: '10.0.0.2' }, dhcp: { enabled: true } });
  expectType<Nic>(nic);
  expectExact<ReturnType<Nic['mac']>, string | undefined>(true);
  expectExact<ReturnType<Nic['mtu']>, number>(true);
  expectType<DhcpConfig>(nic.dhcp());
  // @ts-expect-error an MTU is a number or 'default'
  nic.setMtu('1500');
  // @ts-expect-error addresses are ipv4/ipv6 strings, not bytes
  nic.setAddresses({ ipv4: [10, 0, 0, 2] });

  const sw = Switch.create(undefined, { vni: 700 });
  expectExact<ReturnType<Switch['vni']>, number | undefined>(true);
  const added = sw.addPort({ kind: 'vmnic', mac: '02:00:00:00:00:01', descriptor: true });
  expectType<AddedPort>(added);
  expectType<Nic | undefined>(added.nic);
  expectType<PortInfo[]>(sw.ports());
  // @ts-expect-error an uplink takes a vcc, not a vmnic's MAC
  sw.addPort({ kind: 'uplink', mac: '02:00:00:00:00:01' });
  // @ts-expect-error no such port kind
  sw.addPort({ kind: 'trunk' });
  expectType<{ applied: number; stale: number }>(sw.camSet([{ dst: '02:00:00:00:00:02', vtep: '198.51.100.2' }]));
  expectType<CamEntry[]>(sw.camDump());
  expectType<NeighbourEntry>(sw.neighbours.get('10.0.0.3'));
  expectType<GatewayInfo>(sw.gateway());

  const vcc = Vcc.create(undefined, { ipv4: '127.0.0.1', port: 4789 });
  expectType<VccConfig>(vcc.config());

  expectType<ObjectInfo>(sw.info());
  expectType<ObjectInfo[]>(listObjects('switch'));
  // @ts-expect-error object types are the kernel's names
  listObjects('bridge');
  expectType<ObjectType>(sw.info().type);
  expectType<number>(camFlushVni(700));
  expectType<boolean>(checkInvariants().ok);
  expectType<number>(systemStats().objects);
}

export function counters(sw: Switch, vcc: Vcc): void {
  // Counters are typed records: a misspelt name does not compile.
  const s = sw.stats();
  expectType<SwitchStats>(s);
  expectType<number>(s.dropSpoof);
  // @ts-expect-error no such switch counter
  void s.dropSpooof;
  const v = vcc.stats();
  expectType<VccStats>(v);
  // @ts-expect-error a vcc's counters are not a switch's
  void v.dropSpoof;
  expectType<string>(SWITCH_COUNTERS.misses);
}

export async function transactions(sw: Switch): Promise<void> {
  expectType<number>(withTxn(sw, (txn) => { sw.setVni(701, { txn }); return txn; }));
  expectType<string>(await withTxnAsync(sw, async (txn) => String(txn)));
  // @ts-expect-error a txn is a number
  sw.setVni(701, { txn: 'now' });
}

export async function upcalls(): Promise<void> {
  const stream = await UpcallStream.open();
  for await (const batch of stream) {
    expectType<UpcallRequest[]>(batch);
    const r = batch[0];
    if (r === undefined) continue;
    expectType<'l2' | 'l3'>(r.kind);
    expectType<bigint>(r.generation);
    expectType<Id>(r.switchId);
  }
}

export function errors(e: unknown): void {
  if (e instanceof VpcNotFoundError) {
    expectType<VpcError>(e);
    expectType<string>(e.code);
    expectType<number>(e.errno);
    expectType<string | undefined>(e.objectId);
  }
}

export function router(sw: Switch): void {
  const r = Router.create();
  r.attach(sw, { gateway: { ipv4: '10.0.0.1' } });
  expectType<Attachment[]>(r.attachments());
  r.routes.set({ destination: '10.9.0.0/16', nextHop: '10.0.0.5' });
  r.routes.set({ destination: '0.0.0.0/0', drop: true });
  r.routes.replace([{ destination: '10.8.0.0/16', subnet: sw.id }]);
  expectType<Route[]>(r.routes.list());
  expectType<Route>(r.routes.lookup('10.9.1.1'));
  expectType<number>(r.stats().routed);
  expectExact<keyof RouterStats extends string ? true : false, true>(true);
  // @ts-expect-error a route needs its destination
  r.routes.set({ drop: true });
}

export function nat(r: Router): void {
  const l = Link.create();
  l.bind('eth1');
  expectType<LinkInfo>(l.get());
  expectType<number>(l.stats().arpReplies);
  const n = Nat.create();
  n.configure({ upstreamMac: '02:00:00:00:00:fe', udp: 60 });
  n.configure({ upstreamIp: '203.0.113.1' });
  const upIp: string | undefined = n.config().upstreamIp;
  void upIp;
  expectType<NatConfig>(n.config());
  n.setLink(l);
  r.setNat(n);
  expectType<string | undefined>(r.natId());
  n.bindEip('10.0.0.5', '203.0.113.10');
  n.addPool('203.0.113.20', { lo: 2000, hi: 2999, block: 100 });
  n.bindSnat('10.0.0.6', '203.0.113.20');
  expectType<SnatBinding>(n.snat('10.0.0.6'));
  expectType<NatFlow[]>(n.flows());
  expectType<number>(n.stats().dropNocfg);
  expectExact<keyof NatStats extends string ? true : false, true>(true);
  // @ts-expect-error an EIP needs its external address
  n.bindEip('10.0.0.5');
  // @ts-expect-error the upstream is a MAC string
  n.configure({ upstreamMac: 5 });
  // @ts-expect-error the upstream's address is a string
  n.configure({ upstreamIp: 0x01020304 });
}
