// SPDX-License-Identifier: BSD-2-Clause
/**
 * The file resolver: the JSON mapping file, reloaded when it changes (a
 * watch on its directory, so an editor's rename-into-place counts) and on
 * SIGHUP.  A bad file is reported with its line and what is wrong, and the
 * last good mappings stay in force.
 *
 * Loading never stops the agent: the file is read, checked and turned into
 * a compact table in a worker thread (src/directory/load-worker.ts), which
 * also works out what changed; meanwhile answers come from the table in
 * force, which the new one replaces in one step once it is ready.  The
 * changes are then reported a slice at a time, so a 200,000-entry file
 * never holds the event loop for long.  One load at a time; changes that
 * come in meanwhile make one more.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { ipKey, mappingIps, MappingTable, type Mapping, type MappingTarget } from '../directory/index.ts';
import type { LoadRequest, LoadResult } from '../directory/load-worker.ts';
import { Resolver, type Resolution, type TargetMirror } from './resolver.ts';

/** Changes reported per turn of the event loop, at most... */
const CHANGES_PER_TURN = 4096;
/** ...and for at most about this long. */
const SLICE_MS = 8;

export class FileLoadError extends Error {}

export class FileResolver extends Resolver {
  readonly kind = 'file' as const;
  #table = MappingTable.empty();
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #hup = () => void this.reload('SIGHUP');
  #loading: Promise<boolean> | undefined;
  #again: string | undefined;
  #worker: Worker | undefined;
  #closed = false;
  /** Last load's outcome, for tests and status. */
  lastError: Error | undefined;
  loads = 0;

  constructor(readonly where: string, private readonly log: Logger) {
    super();
  }

  async start(): Promise<void> {
    await this.reload('start');
    // The directory, not the file: editors and `vpcctl map` replace the file.
    this.#watcher = watch(dirname(this.where), (_event, name) => {
      if (name === null || name === basename(this.where)) this.#debounce();
    });
    process.on('SIGHUP', this.#hup);
  }

  #debounce(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.reload('changed'), 50);
  }

  /**
   * Load the file (again); on error keep what we have.  Resolves with
   * whether this load, or the one it was folded into, took.
   */
  reload(why: string): Promise<boolean> {
    if (this.#loading) {
      // One at a time: the file may have changed again since that one read it.
      this.#again = why;
      return this.#loading;
    }
    const run = async (): Promise<boolean> => {
      let ok = await this.#loadOnce(why);
      while (this.#again !== undefined && !this.#closed) {
        const next = this.#again;
        this.#again = undefined;
        ok = await this.#loadOnce(next);
      }
      return ok;
    };
    this.#loading = run().finally(() => { this.#loading = undefined; });
    return this.#loading;
  }

  async #loadOnce(why: string): Promise<boolean> {
    const t0 = performance.now();
    this.log.info({ file: this.where, why }, 'loading the mapping file (answering from the mappings in force meanwhile)');
    let r: LoadResult;
    try {
      r = await this.#inWorker({ path: this.where, previous: this.#table.size > 0 ? this.#table.data : null });
    } catch (e) {
      r = { ok: false, error: { message: (e as Error).message, name: (e as Error).name } };
    }
    if (this.#closed) return false;
    if (!r.ok) {
      this.lastError = new FileLoadError(r.error.message);
      this.log.error({ file: this.where, why, err: r.error.message },
        'mapping file rejected; keeping the last good mappings');
      return false;
    }
    const old = this.#table;
    const fresh = MappingTable.from(r.table);
    this.#table = fresh;            // answers come from the new one from now on
    this.nextEpoch();
    if (this.mirror) this.copyAll(this.mirror);   // in the same step
    this.lastError = undefined;
    this.loads++;
    this.log.info({ file: this.where, why, mappings: fresh.size, changed: r.changed.length, removed: r.removed.length,
      ms: Math.round(performance.now() - t0), tableBytes: fresh.bytes }, 'mappings loaded');
    await this.#report(old, fresh, r.changed, r.removed);
    this.log.debug({ file: this.where, changed: r.changed.length, removed: r.removed.length }, 'mapping changes reported');
    return true;
  }

  #inWorker(req: LoadRequest): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      const w = new Worker(new URL('../directory/load-worker.mjs', import.meta.url), { workerData: req });
      this.#worker = w;
      let settled = false;
      w.once('message', (m: LoadResult) => {
        settled = true;
        resolve(m);
      });
      w.once('error', (e) => {
        settled = true;
        reject(e);
      });
      w.once('exit', (code) => {
        this.#worker = undefined;
        if (!settled) reject(new Error(`the mapping file loader stopped (exit ${code})`));
      });
    });
  }

  /**
   * Tell the installer what moved or went, a slice per turn of the event
   * loop: each changed mapping, and each address that changed hands: one
   * a changed mapping now has and did not have (its owner is that
   * mapping), and one a changed or removed mapping had and has no more
   * (its owner, if any, is looked up in the new table once all is known, so
   * an address that moved from one MAC to another in the same load is
   * reported once, with its new MAC).
   */
  async #report(old: MappingTable, fresh: MappingTable, changed: Uint32Array, removed: Uint32Array): Promise<void> {
    // A turn of the event loop every CHANGES_PER_TURN changes, or sooner
    // when a slice has taken SLICE_MS (mappings with addresses cost more).
    let sliceStart = performance.now();
    const turn = async () => {
      await new Promise<void>((r) => setImmediate(r));
      sliceStart = performance.now();
    };
    const due = (i: number) => i > 0 && (i % CHANGES_PER_TURN === 0 || (i % 256 === 0 && performance.now() - sliceStart > SLICE_MS));
    const owned = new Map<string, { vni: number; ip: string; mapping: Mapping }>();
    const lost = new Map<string, { vni: number; ip: string }>();
    // A directory of MACs alone (no address in either table) costs what it did.
    const addrs = fresh.hasAddresses || old.hasAddresses;
    for (let i = 0; i < changed.length; i++) {
      if (due(i)) await turn();
      if (this.#closed) return;
      const m = fresh.entry(changed[i]!);
      this.emit('change', { vni: m.vni, mac: m.mac, mapping: m, revision: fresh.revision });
      if (!addrs) continue;
      if (!old.hasAddresses) {
        // Nothing had an address before: each one is new, and unique (the
        // table says so); no need to gather them first.
        for (const ip of mappingIps(m)) this.emit('ipChange', { vni: m.vni, ip, mapping: m, revision: fresh.revision });
        continue;
      }
      const o = old.get(m.vni, m.mac);
      if (m.ip !== undefined && m.ip !== o?.ip) owned.set(ipKey(m.vni, m.ip), { vni: m.vni, ip: m.ip, mapping: m });
      if (m.ip6 !== undefined && m.ip6 !== o?.ip6) owned.set(ipKey(m.vni, m.ip6), { vni: m.vni, ip: m.ip6, mapping: m });
      if (o) for (const ip of mappingIps(o)) if (ip !== m.ip && ip !== m.ip6) lost.set(ipKey(m.vni, ip), { vni: m.vni, ip });
    }
    for (let i = 0; i < removed.length; i++) {
      if (i === 0 || due(i)) await turn();
      if (this.#closed) return;
      const slot = removed[i]!;
      this.emit('change', { vni: old.vniAt(slot), mac: old.macAt(slot), mapping: undefined, revision: fresh.revision });
      if (!old.hasAddresses) continue;
      const o = old.entry(slot);
      for (const ip of mappingIps(o)) lost.set(ipKey(o.vni, ip), { vni: o.vni, ip });
    }
    let n = 0;
    for (const { vni, ip, mapping } of owned.values()) {
      if (due(++n)) await turn();
      if (this.#closed) return;
      this.emit('ipChange', { vni, ip, mapping, revision: fresh.revision });
    }
    for (const [k, { vni, ip }] of lost) {
      if (due(++n)) await turn();
      if (this.#closed) return;
      if (!owned.has(k)) this.emit('ipChange', { vni, ip, mapping: fresh.getByIp(vni, ip), revision: fresh.revision });
    }
  }

  async resolve(vni: number, mac: string): Promise<Resolution> {
    return this.resolveNow(vni, mac);
  }

  override resolveNow(vni: number, mac: string): Resolution {
    return this.#table.get(vni, mac) ?? null;
  }

  protected override copyAll(m: TargetMirror): void {
    m.replace(this.#table.targetRecords());
  }

  override resolveTarget(vni: number, macHi: number, macLo: number): MappingTarget | null {
    return this.#table.target(vni, macHi, macLo) ?? null;
  }

  cached(vni: number, mac: string): Mapping | undefined {
    return this.#table.get(vni, mac);
  }

  async resolveIp(vni: number, ip: string): Promise<Resolution> {
    return this.#table.getByIp(vni, ip) ?? null;
  }

  cachedIp(vni: number, ip: string): Mapping | undefined {
    return this.#table.getByIp(vni, ip);
  }

  mappingsOf(vni: number): Mapping[] {
    return this.#table.ofVni(vni);
  }

  /** Mappings in force. */
  get size(): number {
    return this.#table.size;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#watcher?.close();
    process.off('SIGHUP', this.#hup);
    await this.#worker?.terminate();
  }
}
