// SPDX-License-Identifier: BSD-2-Clause
/**
 * The etcd directory: many compute nodes share one.  Key layout (docs/agent.md):
 *
 *   <prefix>/<vni>/<mac>     ->  {"vtep": "198.51.100.2", "port": 4789,
 *                                 "ip": "10.0.0.2", "ip6": "2001:db8::2"}
 *   <prefix>-ip/<vni>/<ip>   ->  "<mac>"        (the address index)
 *
 * with <prefix> "/vpc/mappings" by default, the MAC in lower case with
 * colons and the address in canonical form.  A mapping's revision is its
 * key's mod_revision, so revisions are ordered cluster-wide and a watch can
 * resume exactly where a load ended.  The index makes an address unique
 * within a VNI: a writer changes a mapping and its index keys in one
 * transaction that requires each new address's index key to be absent or
 * to name the same MAC, and the mapping to be as it read it (else it reads
 * again).  Readers (the agent) build their (VNI, IP) -> MAC view from the
 * mappings themselves; the index is for writers.
 */
import { createRequire } from 'node:module';
import type * as CockatielModule from 'cockatiel';
import type { IBackoff } from 'cockatiel';
import type * as Etcd3Module from 'etcd3';
import type { Etcd3, ICallable, IKeyValue, IOperation, Watcher } from 'etcd3';
import { parse4 } from './addr.ts';
import { decodeRangeResponse, encodeRangeRequest, modRevisionBig, type RangePage } from './etcd-wire.ts';
import { checkMapping, hostIp6Words, MappingConflictError, mappingIps, MappingError, type Mapping, type MappingInput } from './mapping.ts';
import { canonicalMacWords, fieldsOf, MappingStore, newFields, type Fields } from './store.ts';

/*
 * etcd3 (gRPC and its protobufs) and cockatiel take a fifth of a second to
 * load: only a program that makes an etcd client pays for them, when it
 * makes the first one.  (Both are CommonJS packages: require gives the
 * same module an import would.)  The build (scripts/build.mjs) bundles the
 * two into one file beside the command and says where in VPC_ETCD_LIBS;
 * the source (tsx) loads them from node_modules.
 */
declare const VPC_ETCD_LIBS: string | undefined;
type EtcdLibs = { etcd3: typeof Etcd3Module; cockatiel: typeof CockatielModule };
let libs: EtcdLibs | undefined;
function etcdLibs(): EtcdLibs {
  const require = createRequire(import.meta.url);
  libs ??= typeof VPC_ETCD_LIBS === 'string'
    ? require(VPC_ETCD_LIBS) as EtcdLibs
    : { etcd3: require('etcd3') as typeof Etcd3Module, cockatiel: require('cockatiel') as typeof CockatielModule };
  return libs;
}

export const DEFAULT_PREFIX = '/vpc/mappings';

export interface EtcdOptions {
  endpoints: string[];
  prefix?: string;
  /** Milliseconds before a call to an unreachable cluster fails. */
  timeoutMs?: number;
  /** Keys per range call of a load (default LOAD_PAGE; tests make it small). */
  loadPageKeys?: number;
  /**
   * How loadStore decodes etcd's replies: 'raw' (the default) walks the
   * protobuf bytes itself (src/directory/etcd-wire.ts); 'etcd3' uses the
   * library's decoder, as it did before (tests compare the two).
   */
  rangeDecoder?: 'raw' | 'etcd3';
}

export function etcdKey(prefix: string, vni: number, mac: string): string {
  return `${prefix}/${vni}/${mac.toLowerCase()}`;
}

/** The address index's key for (vni, ip): <prefix>-ip/<vni>/<ip>. */
export function etcdIpKey(prefix: string, vni: number, ip: string): string {
  return `${prefix}-ip/${vni}/${ip}`;
}

/** Keys per range call of a load: ~100 bytes each on the wire, well under gRPC's 4 MiB. */
export const LOAD_PAGE = 10_000;

/** How often a writer reads again when another changed the same keys meanwhile. */
const TXN_ATTEMPTS = 10;

/** <prefix>/<vni>/<mac>, compiled once per prefix (a load decodes every key with it). */
const keyPatterns = new Map<string, RegExp>();
function keyPattern(prefix: string): RegExp {
  let re = keyPatterns.get(prefix);
  if (!re) {
    re = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(\\d+)/([^/]+)$`);
    keyPatterns.set(prefix, re);
  }
  return re;
}

/** A key/value from etcd as a mapping, or null (with why) if it is not one. */
export function mappingFromKv(prefix: string, kv: Pick<IKeyValue, 'key' | 'value' | 'mod_revision'>): Mapping | MappingError {
  const key = kv.key.toString();
  const m = keyPattern(prefix).exec(key);
  try {
    if (!m) throw new MappingError('key', `${key}: not <prefix>/<vni>/<mac>`);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(kv.value.toString()) as Record<string, unknown>;
    } catch {
      throw new MappingError('value', `${key}: value is not JSON`);
    }
    const checked = checkMapping({ ...body, vni: Number(m[1]), mac: m[2] }, key);
    return { ...checked, revision: BigInt(kv.mod_revision) };
  } catch (e) {
    if (e instanceof MappingError) return e;
    throw e;
  }
}

/**
 * A key/value from etcd (key kb[ks, ke), value vb[vs, ve): slices of the
 * reply, no Buffer of their own) straight into f, for the common case: a key in
 * canonical form (<prefix>/<vni without leading zeros>/<lower-case MAC with
 * colons>) and a value of known fields only, every one valid (the VTEP one
 * the store has already seen, or an address).  false means "not that
 * case": mappingFromKv then decides, with its reasons, so what is accepted,
 * refused and why stays exactly what mappingFromKv says; this only skips
 * its per-key objects and the canonical strings the store does not keep.
 */
function fastFields(prefix: Buffer, kb: Buffer, ks: number, ke: number, vb: Buffer, vs: number, ve: number, revision: number, store: MappingStore, f: Fields): boolean {
  const p = prefix.length;
  if (ke - ks < p + 19 || kb.compare(prefix, 0, p, ks, ks + p) !== 0) return false;
  let vni = 0;
  let i = ks + p;
  if (kb[i] === 48) return false;      // a leading zero: not canonical
  for (; i < ke && kb[i]! >= 48 && kb[i]! <= 57; i++) {
    vni = vni * 10 + kb[i]! - 48;
    if (vni > 0xffffff) return false;
  }
  if (i === ks + p || kb[i] !== 47 || ke !== i + 18) return false;
  if (!canonicalMacWords(kb, i + 1, f)) return false;
  if ((f.w1 >>> 24) & 1 || (f.w1 === 0 && f.w2 === 0)) return false;    // multicast, or all zeros
  let body: unknown;
  try {
    body = JSON.parse(vb.toString('utf8', vs, ve));
  } catch {
    return false;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
  const o = body as Record<string, unknown>;
  for (const key in o) if (key !== 'vtep' && key !== 'port' && key !== 'ip' && key !== 'ip6') return false;
  const { vtep, port, ip, ip6 } = o;
  if (typeof vtep !== 'string' || !store.checkVtep(vtep)) return false;
  f.flags = 0;
  if (port !== undefined && (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)) return false;
  if (ip !== undefined) {
    const a = typeof ip === 'string' ? parse4(ip) : -1;
    const a0 = Math.floor(a / 16777216);
    if (a < 0 || a0 === 0 || a0 === 127 || a0 >= 224) return false;
    f.ip4 = a;
    f.flags |= 1;
  }
  if (ip6 !== undefined) {
    const w = typeof ip6 === 'string' ? hostIp6Words(ip6) : undefined;
    if (!w) return false;
    f.ip6.set(w);
    f.flags |= 2;
  }
  if (!Number.isSafeInteger(revision) || revision < 0) return false;
  f.vni = vni;
  f.port = (port as number | undefined) ?? 0;
  f.vtep = vtep;
  f.revision = revision;
  return true;
}

/**
 * The name of the raw Range method loadStore adds to etcd3's KV client
 * class: it calls etcd's KV/Range with the reply's bytes left undecoded.
 * Called through etcd3's connection pool (ConnectionPool.exec) like any of
 * its own methods, so the host choice, circuit breakers, retries, deadline,
 * TLS credentials and auth token (renewed when etcd says it is invalid)
 * are the library's, as for every other call.
 */
const RAW_RANGE = 'vpcRangeRaw';

/** The first key after this one (where the next page of a range starts). */
function keyAfter(key: Buffer): Buffer {
  return Buffer.concat([key, Buffer.from([0])]);
}
type RawCallback = (err: Error | null, reply?: Buffer) => void;
interface RawCapableClient {
  makeUnaryRequest(method: string, serialize: (b: Buffer) => Buffer, deserialize: (b: Buffer) => Buffer,
    argument: Buffer, metadata: unknown, options: unknown, callback: RawCallback): unknown;
}
const asIs = (b: Buffer): Buffer => b;

/**
 * Give the KV client class (whose instance `client` is) the raw Range
 * method, once; false if it is not the gRPC client this was written
 * against (then the library's decoder serves).
 */
function installRawRange(client: unknown): boolean {
  const proto = Object.getPrototypeOf(client) as Record<string, unknown> | null;
  if (!proto) return false;
  if (typeof proto[RAW_RANGE] === 'function') return true;
  if (typeof (client as Partial<RawCapableClient>).makeUnaryRequest !== 'function') return false;
  Object.defineProperty(proto, RAW_RANGE, {
    value(this: RawCapableClient, req: Buffer, metadata: unknown, options: unknown, callback: RawCallback) {
      return this.makeUnaryRequest('/etcdserverpb.KV/Range', asIs, asIs, req, metadata, options, callback);
    },
  });
  return true;
}

export class EtcdClient {
  readonly client: Etcd3;
  readonly prefix: string;
  readonly #page: number;
  readonly #decoder: 'raw' | 'etcd3';
  /** The raw Range method is in place (undefined: not tried yet; false: cannot be). */
  #raw: boolean | undefined;

  constructor(opts: EtcdOptions) {
    this.#decoder = opts.rangeDecoder ?? 'raw';
    if (this.#decoder !== 'raw' && this.#decoder !== 'etcd3') throw new RangeError(`rangeDecoder: expected 'raw' or 'etcd3', got ${String(opts.rangeDecoder)}`);
    this.#page = opts.loadPageKeys ?? LOAD_PAGE;
    // etcd reads a limit of 0 as none: the one big reply paging is here to avoid.
    if (!Number.isInteger(this.#page) || this.#page < 1) throw new RangeError(`loadPageKeys: expected a whole number >= 1, got ${String(opts.loadPageKeys)}`);
    this.prefix = (opts.prefix ?? DEFAULT_PREFIX).replace(/\/+$/, '');
    const timeout = opts.timeoutMs ?? 2000;
    const { etcd3: { Etcd3, isRecoverableError }, cockatiel: { circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleWhen, retry } } = etcdLibs();
    this.client = new Etcd3({
      hosts: opts.endpoints,
      dialTimeout: timeout,
      // Every unary call has a deadline: the library's default waits forever
      // on a dead cluster, and the agent must notice it is degraded.
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
      faultHandling: {
        host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(3) }),
        global: retry(handleWhen(isRecoverableError), { maxAttempts: 1 }),
        // Reconnect watches within seconds of the cluster coming back.  (etcd3
        // types this as an IBackoff, but at run time it takes the factory, as
        // its own default `new ExponentialBackoff()` shows.)
        watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2000 }) as unknown as IBackoff<unknown>,
      },
    });
  }

  /**
   * Add or move a mapping, with its address index, in one transaction;
   * MappingConflictError when another MAC of the VNI has one of its
   * addresses.
   */
  async put(m: MappingInput): Promise<bigint> {
    const body = { vtep: m.vtep, ...(m.port === undefined ? {} : { port: m.port }), ...(m.ip === undefined ? {} : { ip: m.ip }), ...(m.ip6 === undefined ? {} : { ip6: m.ip6 }) };
    const key = etcdKey(this.prefix, m.vni, m.mac);
    const mac = m.mac.toLowerCase();
    for (let attempt = 0; attempt < TXN_ATTEMPTS; attempt++) {
      const cur = (await this.client.get(key).exec()).kvs[0];
      const old = cur ? mappingFromKv(this.prefix, cur) : undefined;
      const oldIps = old && !(old instanceof MappingError) ? mappingIps(old) : [];
      const newIps = mappingIps(m);
      let txn = cur ? this.client.if(key, 'Mod', '==', cur.mod_revision) : this.client.if(key, 'Version', '==', 0);
      const ops: IOperation[] = [this.client.put(key).value(JSON.stringify(body))];
      for (const ip of newIps) {
        const ik = etcdIpKey(this.prefix, m.vni, ip);
        const owner = (await this.client.get(ik).exec()).kvs[0];
        if (owner && owner.value.toString() !== mac) {
          // Another MAC's, if that mapping still says so (else a stale index key).
          const other = await this.get(m.vni, owner.value.toString());
          if (other && mappingIps(other).includes(ip)) throw new MappingConflictError(m.vni, ip, other.mac, 'etcd');
        }
        txn = owner ? txn.and(ik, 'Mod', '==', owner.mod_revision) : txn.and(ik, 'Version', '==', 0);
        if (!owner || owner.value.toString() !== mac) ops.push(this.client.put(ik).value(mac));
      }
      for (const ip of oldIps) {
        if (newIps.includes(ip)) continue;
        const ik = etcdIpKey(this.prefix, m.vni, ip);
        const owner = (await this.client.get(ik).exec()).kvs[0];
        if (owner && owner.value.toString() === mac) {
          txn = txn.and(ik, 'Mod', '==', owner.mod_revision);
          ops.push(this.client.delete().key(ik));
        }
      }
      const r = await txn.then(...ops).commit();
      if (r.succeeded) return BigInt(r.header.revision);
    }
    throw new Error(`${key}: changed by others ${TXN_ATTEMPTS} times while it was written; try again`);
  }

  async get(vni: number, mac: string): Promise<Mapping | undefined> {
    const r = await this.client.get(etcdKey(this.prefix, vni, mac)).exec();
    const kv = r.kvs[0];
    if (!kv) return undefined;
    const m = mappingFromKv(this.prefix, kv);
    return m instanceof MappingError ? undefined : m;
  }

  /** The mapping that has (vni, ip), through the address index. */
  async getByIp(vni: number, ip: string): Promise<Mapping | undefined> {
    const owner = (await this.client.get(etcdIpKey(this.prefix, vni, ip)).exec()).kvs[0];
    if (!owner) return undefined;
    const m = await this.get(vni, owner.value.toString());
    return m && mappingIps(m).includes(ip) ? m : undefined;
  }

  /** Remove a mapping and the index keys that name it, in one transaction. */
  async del(vni: number, mac: string): Promise<boolean> {
    const key = etcdKey(this.prefix, vni, mac);
    for (let attempt = 0; attempt < TXN_ATTEMPTS; attempt++) {
      const cur = (await this.client.get(key).exec()).kvs[0];
      if (!cur) return false;
      const old = mappingFromKv(this.prefix, cur);
      let txn = this.client.if(key, 'Mod', '==', cur.mod_revision);
      const ops: IOperation[] = [this.client.delete().key(key)];
      for (const ip of old instanceof MappingError ? [] : mappingIps(old)) {
        const ik = etcdIpKey(this.prefix, vni, ip);
        const owner = (await this.client.get(ik).exec()).kvs[0];
        if (owner && owner.value.toString() === mac.toLowerCase()) {
          txn = txn.and(ik, 'Mod', '==', owner.mod_revision);
          ops.push(this.client.delete().key(ik));
        }
      }
      const r = await txn.then(...ops).commit();
      if (r.succeeded) return true;
    }
    throw new Error(`${key}: changed by others ${TXN_ATTEMPTS} times while it was removed; try again`);
  }

  /**
   * Every mapping under the prefix (one VNI if given), the bad ones apart, and
   * the revision read at.  Read in pages of LOAD_PAGE keys, every page at the
   * first one's revision (one consistent snapshot): a single reply for the
   * whole directory passes gRPC's 4 MiB message limit near 45,000 mappings
   * (100,000 took 9.4 MB), and that call fails however often it is tried.
   */
  async load(vni?: number): Promise<{ mappings: Mapping[]; bad: MappingError[]; revision: bigint }> {
    const mappings: Mapping[] = [];
    const bad: MappingError[] = [];
    const revision = await this.#range(vni, () => {}, (kv) => {
      const m = mappingFromKv(this.prefix, kv);
      if (m instanceof MappingError) bad.push(m);
      else mappings.push(m);
    });
    return { mappings, bad, revision };
  }

  /**
   * load(), into a compact MappingStore (what the etcd resolver holds):
   * the same mappings, refused with the same reasons, without a Mapping
   * object per key.  A (VNI, MAC) written under two keys (a MAC in upper
   * case beside one in lower case) holds the later key's mapping.
   */
  async loadStore(vni?: number): Promise<{ store: MappingStore; bad: MappingError[]; revision: bigint }> {
    let store = new MappingStore();
    const bad: MappingError[] = [];
    const prefix = Buffer.from(`${this.prefix}/`);
    const f = newFields();
    const sized = (count: number) => { store = new MappingStore(count); };
    const general = (kv: Pick<IKeyValue, 'key' | 'value' | 'mod_revision'>) => {
      const m = mappingFromKv(this.prefix, kv);
      if (m instanceof MappingError) bad.push(m);
      else if (fieldsOf(m, f)) store.putUnindexed(f);
      else bad.push(new MappingError('value', `${kv.key.toString()}: not a mapping the directory can hold`));
    };
    const revision = this.#decoder === 'raw' && await this.#rawReady()
      ? await this.#rangeRaw(vni, sized, (page) => {
        const { buf, spans, modRevision } = page;
        for (let i = 0; i < page.n; i++) {
          const ks = spans[4 * i]!;
          const ke = spans[4 * i + 1]!;
          const vs = spans[4 * i + 2]!;
          const ve = spans[4 * i + 3]!;
          if (fastFields(prefix, buf, ks, ke, buf, vs, ve, modRevision[i]!, store, f)) store.putUnindexed(f);
          else general({ key: buf.subarray(ks, ke), value: buf.subarray(vs, ve), mod_revision: modRevisionBig(page, i).toString() });
        }
      })
      : await this.#range(vni, sized, (kv) => {
        if (fastFields(prefix, kv.key, 0, kv.key.length, kv.value, 0, kv.value.length, Number(kv.mod_revision), store, f)) store.putUnindexed(f);
        else general(kv);
      });
    store.indexAddresses();
    return { store, bad, revision };
  }

  /** The connection pool etcd3 makes its calls through (not in its public types). */
  get #pool(): ICallable<unknown> {
    return (this.client as unknown as { pool: ICallable<unknown> }).pool;
  }

  /** Can loadStore use the raw Range method?  (Asked once: it needs a KV client to find its class.) */
  async #rawReady(): Promise<boolean> {
    if (this.#raw === undefined) {
      const pool = this.#pool;
      this.#raw = typeof pool?.exec === 'function' && typeof pool.withConnection === 'function'
        && await pool.withConnection('KV', ({ client }) => installRawRange(client));
    }
    return this.#raw;
  }

  /**
   * #range through the raw Range method: each page handed over whole, as
   * decodeRangeResponse gives it (a reply it cannot read rejects the load).
   */
  async #rangeRaw(vni: number | undefined, count: (n: number) => void, each: (page: RangePage) => void): Promise<bigint> {
    const { start, end } = this.#bounds(vni);
    const call = (from: Buffer, revision: bigint) => this.#pool.exec<Buffer>('KV', RAW_RANGE, encodeRangeRequest(from, end, this.#page, revision));
    let reply = await call(start, 0n);
    let revision: bigint | undefined;
    for (;;) {
      const page = decodeRangeResponse(reply);
      if (revision === undefined) {
        revision = page.revision;
        count(page.count);
      }
      // The next page is asked for before this one is read into the store,
      // so that etcd serves it while we decode (a load was half waiting).
      let next: Promise<Buffer> | undefined;
      if (page.more && page.n > 0) {
        const last = 4 * (page.n - 1);
        next = call(keyAfter(page.buf.subarray(page.spans[last], page.spans[last + 1])), revision);
        // A page that fails to decode ends the load with its own error; the call in flight is then let go.
        next.catch(() => {});
      }
      each(page);
      if (!next) break;
      reply = await next;
    }
    return revision;
  }

  /**
   * Every key/value under the prefix (or one VNI's), a page at a time, at
   * one revision: the revision.  count is told how many keys the range
   * holds, before the first one.
   */
  async #range(vni: number | undefined, count: (n: number) => void, each: (kv: IKeyValue) => void): Promise<bigint> {
    const { start, end } = this.#bounds(vni);
    let from: Buffer = start;
    let revision: string | undefined;
    for (;;) {
      const page = this.client.getAll().inRange({ start: from, end }).limit(this.#page);
      const r = await (revision === undefined ? page : page.revision(revision)).exec();
      if (revision === undefined) {
        revision = r.header.revision;
        count(Number(r.count));
      }
      for (const kv of r.kvs) each(kv);
      const last = r.kvs.at(-1);
      if (!r.more || !last) break;
      from = keyAfter(last.key);
    }
    return BigInt(revision);
  }

  /** The keys a load reads: the prefix's, or one VNI's. */
  #bounds(vni: number | undefined): { start: Buffer; end: Buffer } {
    return etcdLibs().etcd3.Range.prefix(vni === undefined ? `${this.prefix}/` : `${this.prefix}/${vni}/`);
  }

  /** Watch the prefix from a revision on. */
  async watch(fromRevision: bigint): Promise<Watcher> {
    return this.client.watch().prefix(`${this.prefix}/`).startRevision(fromRevision.toString()).create();
  }

  close(): void {
    this.client.close();
  }
}
