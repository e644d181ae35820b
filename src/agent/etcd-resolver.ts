// SPDX-License-Identifier: BSD-2-Clause
/**
 * The etcd resolver: loads every mapping under the prefix, then follows a
 * watch from the revision the load was read at, so no change falls between
 * the two.  Answers come from that copy, so a lookup costs no round trip and
 * the agent keeps answering from it while etcd is unreachable (degraded:
 * logged, a metric, a lifecycle event; reconnecting with backoff, and
 * reloading on recovery in case the watch missed compacted history).
 */
import type { Watcher } from 'etcd3';
import type { Logger } from 'pino';
import {
  EtcdClient, ipKey, mappingFromKv, mappingIps, MappingError, MappingStore, type EtcdOptions, type Mapping,
  type MappingTarget,
} from '../directory/index.ts';
import { Resolver, type Resolution, type TargetMirror } from './resolver.ts';

export class EtcdResolver extends Resolver {
  readonly kind = 'etcd' as const;
  readonly where: string;
  readonly #etcd: EtcdClient;
  /**
   * The copy: (VNI, MAC) -> mapping, and (VNI, IP) -> mapping built from
   * the mappings, not from etcd's index; compact (src/directory/store.ts).
   */
  #store = new MappingStore();
  #loaded = false;
  #revision = 0n;
  #watcher: Watcher | undefined;
  #closing = false;
  #retry: NodeJS.Timeout | undefined;
  #backoff = 100;

  constructor(opts: EtcdOptions, private readonly log: Logger) {
    super();
    this.#etcd = new EtcdClient(opts);
    this.where = `${opts.endpoints.join(',')}${this.#etcd.prefix}`;
  }

  async start(): Promise<void> {
    await this.#connect();
  }

  /** (Re)load and watch; on failure be degraded and try again with backoff. */
  async #connect(): Promise<void> {
    if (this.#closing) return;
    try {
      const { store, bad, revision } = await this.#etcd.loadStore();
      for (const b of bad) this.log.warn({ err: b.message }, 'ignoring a malformed mapping in etcd');
      this.#apply(store, revision);
      await this.#watch(revision + 1n);
      this.#backoff = 100;
      this.setDegraded(undefined);
    } catch (e) {
      this.#fail(e as Error);
    }
  }

  #fail(e: Error): void {
    if (this.#closing) return;
    if (!this.degraded) this.log.error({ err: e.message, etcd: this.where }, 'etcd unreachable: degraded, answering from cache');
    this.setDegraded(e);
    void this.#watcher?.cancel().catch(() => {});
    this.#watcher = undefined;
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => void this.#connect(), this.#backoff);
    this.#backoff = Math.min(this.#backoff * 2, 5000);
  }

  /** A fresh full load: report what changed against what we had. */
  #apply(fresh: MappingStore, revision: bigint): void {
    const old = this.#store;
    const ips = new Map<string, { vni: number; ip: string }>();
    const touch = (m: Mapping | undefined) => {
      if (m) for (const ip of mappingIps(m)) ips.set(ipKey(m.vni, ip), { vni: m.vni, ip });
    };
    // The changes are reported before the new copy is in place, in the same synchronous step.
    this.nextEpoch();
    if (this.#loaded) {
      for (const i of fresh.records()) {
        const j = old.find(fresh.vniAt(i), ...fresh.macWordsAt(i));
        if (j < 0 || old.revisionAt(j) !== fresh.revisionAt(i)) {
          const m = fresh.entry(i);
          this.emit('change', { vni: m.vni, mac: m.mac, mapping: m, revision: m.revision });
          touch(m);
          if (j >= 0) touch(old.entry(j));
        }
      }
      for (const j of old.records()) {
        if (fresh.find(old.vniAt(j), ...old.macWordsAt(j)) < 0) {
          const m = old.entry(j);
          this.emit('change', { vni: m.vni, mac: m.mac, mapping: undefined, revision });
          touch(m);
        }
      }
    }
    this.#store = fresh;
    if (this.mirror) this.copyAll(this.mirror);   // in the same step
    for (const { vni, ip } of ips.values()) {
      const m = fresh.getByIp(vni, ip);
      this.emit('ipChange', { vni, ip, mapping: m, revision: m?.revision ?? revision });
    }
    this.#loaded = true;
    this.#revision = revision;
    this.log.info({ etcd: this.where, mappings: fresh.size, revision: revision.toString(), bytes: fresh.bytes }, 'mappings loaded');
  }

  async #watch(from: bigint): Promise<void> {
    const w = await this.#etcd.watch(from);
    this.#watcher = w;
    w.on('put', (kv) => {
      const m = mappingFromKv(this.#etcd.prefix, kv);
      if (m instanceof MappingError) {
        this.log.warn({ err: m.message }, 'ignoring a malformed mapping in etcd');
        return;
      }
      this.#revision = m.revision;
      this.nextEpoch();
      const old = this.#store.set(m);
      this.#mirrorOne(m.vni, m.mac);
      this.emit('change', { vni: m.vni, mac: m.mac, mapping: m, revision: m.revision });
      this.#ipsChanged(old, m, m.revision);
    });
    w.on('delete', (kv) => {
      const key = kv.key.toString().slice(this.#etcd.prefix.length + 1);
      const [vni, mac] = key.split('/');
      const revision = BigInt(kv.mod_revision);
      this.#revision = revision;
      if (vni === undefined || mac === undefined) return;
      this.nextEpoch();
      const words = this.#macWords(Number(vni), mac);
      const old = this.#store.delete(Number(vni), mac);
      if (this.mirror && words) this.mirror.set(Number(vni), words[0], words[1], undefined);
      this.emit('change', { vni: Number(vni), mac, mapping: undefined, revision });
      this.#ipsChanged(old, undefined, revision);
    });
    // The library reconnects watches itself; we are degraded meanwhile, and
    // reload on reconnection in case history we needed was compacted.
    w.on('disconnected', (err) => this.#fail(err));
    w.on('error', (err) => this.#fail(err));
    w.on('connected', () => {
      if (this.degraded) void this.#connect();
    });
  }

  /**
   * A mapping changed from old to m (or went), the store's address view
   * already updated (MappingStore.set, delete): report the addresses that
   * changed hands, each with its owner now.
   */
  #ipsChanged(old: Mapping | undefined, m: Mapping | undefined, revision: bigint): void {
    const vni = (m ?? old)?.vni;
    if (vni === undefined) return;
    const now = m ? mappingIps(m) : [];
    const gone = old ? mappingIps(old).filter((ip) => !now.includes(ip)) : [];
    for (const ip of [...gone, ...now]) {
      if (old && m && mappingIps(old).includes(ip) && old.mac === m.mac) continue;
      const cur = this.#store.getByIp(vni, ip);
      this.emit('ipChange', { vni, ip, mapping: cur, revision: cur?.revision ?? revision });
    }
  }

  async resolveIp(vni: number, ip: string): Promise<Resolution> {
    const m = this.#store.getByIp(vni, ip);
    if (m) return m;
    return this.#loaded && !this.degraded ? null : undefined;
  }

  cachedIp(vni: number, ip: string): Mapping | undefined {
    return this.#store.getByIp(vni, ip);
  }

  async resolve(vni: number, mac: string): Promise<Resolution> {
    return this.resolveNow(vni, mac);
  }

  override resolveNow(vni: number, mac: string): Resolution {
    const m = this.#store.get(vni, mac);
    if (m) return m;
    return this.#loaded && !this.degraded ? null : undefined;
  }

  protected override copyAll(m: TargetMirror): void {
    m.replace(this.#store.targetRecords());
  }

  /** The MAC's two words as the store keeps them, if it has (vni, mac). */
  #macWords(vni: number, mac: string): [number, number] | undefined {
    const i = this.#store.findMac(vni, mac);
    return i < 0 ? undefined : this.#store.macWordsAt(i);
  }

  /** (vni, mac) as the store now has it, into the mirror. */
  #mirrorOne(vni: number, mac: string): void {
    const words = this.mirror ? this.#macWords(vni, mac) : undefined;
    if (words) this.mirror!.set(vni, words[0], words[1], this.#store.target(vni, words[0], words[1]));
  }

  override resolveTarget(vni: number, macHi: number, macLo: number): MappingTarget | null | undefined {
    const t = this.#store.target(vni, macHi, macLo);
    if (t) return t;
    return this.#loaded && !this.degraded ? null : undefined;
  }

  cached(vni: number, mac: string): Mapping | undefined {
    return this.#store.get(vni, mac);
  }

  mappingsOf(vni: number): Mapping[] {
    return this.#store.ofVni(vni);
  }

  get revision(): bigint {
    return this.#revision;
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#retry);
    await this.#watcher?.cancel().catch(() => {});
    this.#etcd.close();
  }
}
