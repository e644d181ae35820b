// SPDX-License-Identifier: BSD-2-Clause
/**
 * The mapping directory that host orchestration writes and vpc-agent reads:
 * where each (VNI, MAC) lives on the underlay.  Two backends behind one
 * interface: a JSON file (the embedded default, one compute node) and etcd
 * (many compute nodes sharing one directory).
 */
import { readMappingFile, updateMappingFile } from './file.ts';
import { EtcdClient, type EtcdOptions } from './etcd.ts';
import { canonicalIp, checkMapping, mappingKey, type Mapping, type MappingInput } from './mapping.ts';

export { DirectoryFileError, loadMappingTable, parseMappingFile, readMappingFile, fileRevision } from './file.ts';
export { MappingTable, type TableData } from './table.ts';
export { MappingStore } from './store.ts';
export { DEFAULT_PREFIX, EtcdClient, etcdIpKey, etcdKey, mappingFromKv, type EtcdOptions } from './etcd.ts';
export {
  canonicalIp, checkMapping, ipKey, MappingConflictError, mappingIps, mappingKey, MappingError, type Mapping, type MappingInput,
  type MappingTarget,
} from './mapping.ts';

export interface Directory {
  readonly kind: 'file' | 'etcd';
  readonly where: string;
  /**
   * Add or move a mapping; returns it with its revision.  A mapping whose
   * address another MAC of the VNI has is refused (MappingConflictError).
   */
  set(m: MappingInput): Promise<Mapping>;
  get(vni: number, mac: string): Promise<Mapping | undefined>;
  /** The mapping that has this IPv4 or IPv6 address in the VNI. */
  getByIp(vni: number, ip: string): Promise<Mapping | undefined>;
  /** false when there was no such mapping. */
  del(vni: number, mac: string): Promise<boolean>;
  list(vni?: number): Promise<Mapping[]>;
  close(): void;
}

export type DirectoryOptions = { kind: 'file'; path: string } | ({ kind: 'etcd' } & EtcdOptions);

class FileDirectory implements Directory {
  readonly kind = 'file' as const;
  constructor(readonly where: string) {}

  async set(m: MappingInput): Promise<Mapping> {
    const checked = checkMapping(m);
    updateMappingFile(this.where, (all) => { all.set(mappingKey(checked.vni, checked.mac), checked); });
    return (await this.get(checked.vni, checked.mac))!;
  }

  async get(vni: number, mac: string): Promise<Mapping | undefined> {
    const key = mappingKey(vni, mac);
    return readMappingFile(this.where).find((m) => mappingKey(m.vni, m.mac) === key);
  }

  async getByIp(vni: number, ip: string): Promise<Mapping | undefined> {
    const c = canonicalIp(ip, ip.includes(':') ? 6 : 4);
    return c === undefined ? undefined : readMappingFile(this.where).find((m) => m.vni === vni && (m.ip === c || m.ip6 === c));
  }

  async del(vni: number, mac: string): Promise<boolean> {
    let found = false;
    updateMappingFile(this.where, (all) => { found = all.delete(mappingKey(vni, mac)); });
    return found;
  }

  async list(vni?: number): Promise<Mapping[]> {
    return readMappingFile(this.where).filter((m) => vni === undefined || m.vni === vni);
  }

  close(): void {}
}

class EtcdDirectory implements Directory {
  readonly kind = 'etcd' as const;
  readonly where: string;
  readonly #etcd: EtcdClient;

  constructor(opts: EtcdOptions) {
    this.#etcd = new EtcdClient(opts);
    this.where = `${opts.endpoints.join(',')}${this.#etcd.prefix}`;
  }

  async set(m: MappingInput): Promise<Mapping> {
    const checked = checkMapping(m);
    const revision = await this.#etcd.put(checked);
    return { ...checked, revision };
  }

  get(vni: number, mac: string): Promise<Mapping | undefined> {
    return this.#etcd.get(vni, mac);
  }

  async getByIp(vni: number, ip: string): Promise<Mapping | undefined> {
    const c = canonicalIp(ip, ip.includes(':') ? 6 : 4);
    return c === undefined ? undefined : this.#etcd.getByIp(vni, c);
  }

  del(vni: number, mac: string): Promise<boolean> {
    return this.#etcd.del(vni, mac);
  }

  async list(vni?: number): Promise<Mapping[]> {
    return (await this.#etcd.load(vni)).mappings;
  }

  close(): void {
    this.#etcd.close();
  }
}

export function openDirectory(opts: DirectoryOptions): Directory {
  return opts.kind === 'file' ? new FileDirectory(opts.path) : new EtcdDirectory(opts);
}
