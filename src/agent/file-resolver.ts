/**
 * The file resolver: the JSON mapping file, reloaded when it changes (a
 * watch on its directory, so an editor's rename-into-place counts) and on
 * SIGHUP.  A bad file is reported with its line and what is wrong, and the
 * last good mappings stay in force.
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { DirectoryFileError, mappingKey, readMappingFile, type Mapping } from '../directory/index.ts';
import { Resolver, type Resolution } from './resolver.ts';

export class FileResolver extends Resolver {
  readonly kind = 'file' as const;
  #map = new Map<string, Mapping>();
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #hup = () => this.reload('SIGHUP');
  /** Last load's outcome, for tests and status. */
  lastError: DirectoryFileError | Error | undefined;
  loads = 0;

  constructor(readonly where: string, private readonly log: Logger) {
    super();
  }

  async start(): Promise<void> {
    this.reload('start');
    // The directory, not the file: editors and `vpcctl map` replace the file.
    this.#watcher = watch(dirname(this.where), (_event, name) => {
      if (name === null || name === basename(this.where)) this.#debounce();
    });
    process.on('SIGHUP', this.#hup);
  }

  #debounce(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.reload('changed'), 50);
  }

  /** Load the file; on error keep what we have.  Returns whether it loaded. */
  reload(why: string): boolean {
    let next: Mapping[];
    try {
      next = existsSync(this.where) ? readMappingFile(this.where) : [];
    } catch (e) {
      this.lastError = e as Error;
      this.log.error({ file: this.where, why, err: (e as Error).message },
        'mapping file rejected; keeping the last good mappings');
      return false;
    }
    this.lastError = undefined;
    this.loads++;
    const fresh = new Map(next.map((m) => [mappingKey(m.vni, m.mac), m]));
    const revision = next[0]?.revision ?? BigInt(Date.now()) * 1000n;
    for (const [key, m] of fresh) {
      const old = this.#map.get(key);
      if (!old || old.vtep !== m.vtep || old.port !== m.port) this.emit('change', { vni: m.vni, mac: m.mac, mapping: m, revision: m.revision });
    }
    for (const [key, m] of this.#map) {
      if (!fresh.has(key)) this.emit('change', { vni: m.vni, mac: m.mac, mapping: undefined, revision });
    }
    this.#map = fresh;
    this.log.info({ file: this.where, why, mappings: fresh.size }, 'mappings loaded');
    return true;
  }

  async resolve(vni: number, mac: string): Promise<Resolution> {
    return this.#map.get(mappingKey(vni, mac)) ?? null;
  }

  cached(vni: number, mac: string): Mapping | undefined {
    return this.#map.get(mappingKey(vni, mac));
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#watcher?.close();
    process.off('SIGHUP', this.#hup);
  }
}
