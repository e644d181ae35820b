/**
 * The etcd directory: many compute nodes share one.  Key layout (docs/agent.md):
 *
 *   <prefix>/<vni>/<mac>  ->  {"vtep": "198.51.100.2", "port": 4789}
 *
 * with <prefix> "/vpc/mappings" by default and the MAC in lower case with
 * colons.  A mapping's revision is its key's mod_revision, so revisions are
 * ordered cluster-wide and a watch can resume exactly where a load ended.
 */
import { createRequire } from 'node:module';
import type * as CockatielModule from 'cockatiel';
import type { IBackoff } from 'cockatiel';
import type * as Etcd3Module from 'etcd3';
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { checkMapping, MappingError, type Mapping, type MappingInput } from './mapping.ts';

/*
 * etcd3 (gRPC and its protobufs) and cockatiel take a fifth of a second to
 * load: only a program that makes an etcd client pays for them, when it
 * makes the first one.  (Both are CommonJS packages: require gives the
 * same module an import would.)
 */
let libs: { etcd3: typeof Etcd3Module; cockatiel: typeof CockatielModule } | undefined;
function etcdLibs(): { etcd3: typeof Etcd3Module; cockatiel: typeof CockatielModule } {
  const require = createRequire(import.meta.url);
  libs ??= { etcd3: require('etcd3') as typeof Etcd3Module, cockatiel: require('cockatiel') as typeof CockatielModule };
  return libs;
}

export const DEFAULT_PREFIX = '/vpc/mappings';

export interface EtcdOptions {
  endpoints: string[];
  prefix?: string;
  /** Milliseconds before a call to an unreachable cluster fails. */
  timeoutMs?: number;
}

export function etcdKey(prefix: string, vni: number, mac: string): string {
  return `${prefix}/${vni}/${mac.toLowerCase()}`;
}

/** A key/value from etcd as a mapping, or null (with why) if it is not one. */
export function mappingFromKv(prefix: string, kv: IKeyValue): Mapping | MappingError {
  const key = kv.key.toString();
  const m = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(\\d+)/([^/]+)$`).exec(key);
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

export class EtcdClient {
  readonly client: Etcd3;
  readonly prefix: string;

  constructor(opts: EtcdOptions) {
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

  async put(m: MappingInput): Promise<bigint> {
    const body = m.port === undefined ? { vtep: m.vtep } : { vtep: m.vtep, port: m.port };
    const r = await this.client.put(etcdKey(this.prefix, m.vni, m.mac)).value(JSON.stringify(body)).exec();
    return BigInt(r.header.revision);
  }

  async get(vni: number, mac: string): Promise<Mapping | undefined> {
    const r = await this.client.get(etcdKey(this.prefix, vni, mac)).exec();
    const kv = r.kvs[0];
    if (!kv) return undefined;
    const m = mappingFromKv(this.prefix, kv);
    return m instanceof MappingError ? undefined : m;
  }

  async del(vni: number, mac: string): Promise<boolean> {
    const r = await this.client.delete().key(etcdKey(this.prefix, vni, mac)).exec();
    return Number(r.deleted) > 0;
  }

  /** Every mapping under the prefix (one VNI if given), the bad ones apart, and the revision read at. */
  async load(vni?: number): Promise<{ mappings: Mapping[]; bad: MappingError[]; revision: bigint }> {
    const prefix = vni === undefined ? `${this.prefix}/` : `${this.prefix}/${vni}/`;
    const r = await this.client.getAll().prefix(prefix).exec();
    const mappings: Mapping[] = [];
    const bad: MappingError[] = [];
    for (const kv of r.kvs) {
      const m = mappingFromKv(this.prefix, kv);
      if (m instanceof MappingError) bad.push(m);
      else mappings.push(m);
    }
    return { mappings, bad, revision: BigInt(r.header.revision) };
  }

  /** Watch the prefix from a revision on. */
  async watch(fromRevision: bigint): Promise<Watcher> {
    return this.client.watch().prefix(`${this.prefix}/`).startRevision(fromRevision.toString()).create();
  }

  close(): void {
    this.client.close();
  }
}
