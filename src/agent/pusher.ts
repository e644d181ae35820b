// SPDX-License-Identifier: BSD-2-Clause
/**
 * Push mode: install, ahead of traffic, the forwarding (CAM) and neighbour
 * entries of every mapping of every VNI that has a switch on this node, from
 * the directory the resolver already holds, and install new mappings the
 * moment they appear.  Misses are then only for what the directory did not
 * know a moment ago, and for the long tail beyond the cap.
 *
 * The entries carry the agent's TTL like answered ones, and a resync every
 * quarter of the TTL renews them, so entries of a dead agent still age out
 * rather than point at a VM's old node forever.  Moves and removals are the
 * installer's job (it follows every installed entry, pushed ones included).
 *
 * Bounded: at most `cap` pushed entries per switch.  A VNI with more mappings
 * than that keeps the ones frames used since they were set first (the CAM's
 * used flag), then the rest in directory order; what is left out, or no
 * longer chosen, is not renewed and expires: least recently used first out.
 */
import type { Logger } from 'pino';
import {
  cidrParse, ipBytes, listObjects, Switch, VpcNotFoundError, VpcRemovedError, VpcUnavailableError,
  type CamSpec, type NeighbourSpec,
} from '../vpc/index.ts';
import type { Mapping } from '../directory/index.ts';
import type { Metrics } from './metrics.ts';
import type { MappingChange, Resolver } from './resolver.ts';

export interface PushOptions {
  /** TTL of pushed entries in ms (0: static). */
  ttlMs: number;
  /** Pushed entries per switch at most. */
  cap: number;
  /** Resync period in ms (default: a quarter of the TTL, at least 1 s; 60 s for static entries). */
  resyncMs?: number;
}

interface Pushed {
  sw: Switch;
  vni: number;
  /** MACs pushed at the last sync or since. */
  macs: Set<string>;
}

/** Is the address inside one of the subnets? (The kernel refuses a neighbour entry outside them.) */
function inSubnets(ip: string, subnets: ReadonlyArray<{ af: 4 | 6; bytes: number[]; prefix: number }>): boolean {
  const a = ipBytes(ip);
  return subnets.some((s) => {
    if (s.af !== a.af) return false;
    for (let bit = 0; bit < s.prefix; bit++) {
      const m = 0x80 >> (bit & 7);
      if ((a.bytes[bit >> 3]! & m) !== (s.bytes[bit >> 3]! & m)) return false;
    }
    return true;
  });
}

export class Pusher {
  readonly #switches = new Map<string, Pushed>();
  readonly #adds = new Map<string, MappingChange>();
  #addsQueued = false;
  #timer: NodeJS.Timeout | undefined;
  #synced = false;
  #stopped = false;

  constructor(
    private readonly resolver: Resolver,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly opts: PushOptions,
  ) {
    resolver.on('change', (c) => {
      // Before the first sync, the sync itself installs everything.
      if (!this.#synced || !c.mapping) return;
      this.#adds.set(`${c.vni}/${c.mac}`, c);
      if (!this.#addsQueued) {
        this.#addsQueued = true;
        setImmediate(() => this.#applyAdds());
      }
    });
    const every = opts.resyncMs ?? (opts.ttlMs > 0 ? Math.max(1000, Math.floor(opts.ttlMs / 4)) : 60_000);
    this.#timer = setInterval(() => this.sync('resync'), every);
    this.#timer.unref();
  }

  /**
   * Install every VNI's mappings on every switch here (on start, after the
   * kernel came back, on a new switch, and periodically).  Synchronous: one
   * sync never overlaps another.  A failure is logged; the next sync tries
   * again (a miss meanwhile is answered as without push).
   */
  sync(why: string): void {
    if (this.#stopped) return;
    try {
      this.#syncAll(why);
    } catch (e) {
      this.log.warn({ event: 'push', why, err: (e as Error).message }, 'could not push mappings; the next sync tries again');
    }
  }

  #syncAll(why: string): void {
    const t0 = process.hrtime.bigint();
    const seen = new Set<string>();
    let cam = 0;
    let nbr = 0;
    for (const o of listObjects('switch')) {
      seen.add(o.id);
      let p = this.#switches.get(o.id);
      if (!p) {
        try {
          const sw = Switch.open(o.id);
          const vni = sw.vni();
          if (vni === undefined) {
            sw.close();
            continue;
          }
          p = { sw, vni, macs: new Set() };
          this.#switches.set(o.id, p);
        } catch {
          continue;     // gone meanwhile
        }
      }
      const r = this.#syncSwitch(p);
      cam += r.cam;
      nbr += r.nbr;
    }
    for (const [id, p] of this.#switches) if (!seen.has(id)) this.#drop(p);
    this.#synced = true;
    this.metrics.pushEntries.set([...this.#switches.values()].reduce((n, p) => n + p.macs.size, 0));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    this.log.info({ event: 'push', why, switches: this.#switches.size, cam, neighbours: nbr, ms: Math.round(ms) }, 'mappings pushed to the switches');
  }

  /** One switch: choose up to cap mappings of its VNI, install them and their addresses. */
  #syncSwitch(p: Pushed): { cam: number; nbr: number } {
    try {
      const installed = p.sw.camDump();
      const local = new Set(installed.filter((e) => e.kind === 'local').map((e) => e.dst));
      const used = new Set(installed.filter((e) => e.kind === 'remote' && e.used).map((e) => e.dst));
      let chosen = this.resolver.mappingsOf(p.vni).filter((m) => !local.has(m.mac));
      if (chosen.length > this.opts.cap) {
        // Used ones first (a stable sort keeps directory order within each).
        chosen = chosen.sort((a, b) => Number(used.has(b.mac)) - Number(used.has(a.mac))).slice(0, this.opts.cap);
        this.metrics.pushOverCap.inc();
      }
      p.macs = new Set(chosen.map((m) => m.mac));
      return this.#install(p, chosen);
    } catch (e) {
      this.#failed(p, e);
      return { cam: 0, nbr: 0 };
    }
  }

  #install(p: Pushed, ms: Mapping[]): { cam: number; nbr: number } {
    if (ms.length === 0) return { cam: 0, nbr: 0 };
    const ttlMs = this.opts.ttlMs;
    const cams: CamSpec[] = ms.map((m) => ({
      dst: m.mac, vtep: m.vtep, ...(m.port ? { port: m.port } : {}), ttlMs, revision: Number(m.revision),
    }));
    const r = p.sw.camSet(cams);
    const subnets = p.sw.subnets().map((c) => cidrParse(c));
    let nbr = 0;
    if (subnets.length > 0 && ms.some((m) => m.ip !== undefined || m.ip6 !== undefined)) {
      const local = new Set(p.sw.neighbours.dump().filter((e) => e.kind === 'local').map((e) => e.ip));
      const nbrs: NeighbourSpec[] = [];
      for (const m of ms) {
        for (const ip of [m.ip, m.ip6]) {
          if (ip !== undefined && !local.has(ip) && inSubnets(ip, subnets)) nbrs.push({ ip, mac: m.mac, ttlMs, revision: Number(m.revision) });
        }
      }
      if (nbrs.length > 0) nbr = p.sw.neighbours.set(nbrs).applied;
    }
    this.metrics.pushInstalled.inc({ table: 'cam' }, r.applied);
    this.metrics.pushInstalled.inc({ table: 'neighbour' }, nbr);
    return { cam: r.applied, nbr };
  }

  /** New mappings (or moved ones) of pushed VNIs, installed in one batch per switch. */
  #applyAdds(): void {
    this.#addsQueued = false;
    const adds = [...this.#adds.values()];
    this.#adds.clear();
    for (const p of [...this.#switches.values()]) {
      const mine = adds.filter((c) => c.vni === p.vni && c.mapping && (p.macs.has(c.mac) || p.macs.size < this.opts.cap));
      if (mine.length === 0) continue;
      try {
        const local = new Set(p.sw.camDump().filter((e) => e.kind === 'local').map((e) => e.dst));
        const ms = mine.map((c) => c.mapping!).filter((m) => !local.has(m.mac));
        for (const m of ms) p.macs.add(m.mac);
        this.#install(p, ms);
      } catch (e) {
        this.#failed(p, e);
      }
    }
  }

  #failed(p: Pushed, e: unknown): void {
    if (e instanceof VpcRemovedError || e instanceof VpcUnavailableError || e instanceof VpcNotFoundError) this.#drop(p);
    else this.log.warn({ sw: p.sw.id, vni: p.vni, err: (e as Error).message }, 'could not push mappings');
  }

  #drop(p: Pushed): void {
    this.#switches.delete(p.sw.id);
    try { p.sw.close(); } catch { /* already closed */ }
  }

  /** The kernel went away: its switch handles mean nothing now. */
  forgetSwitches(): void {
    for (const p of [...this.#switches.values()]) this.#drop(p);
  }

  /** Has this switch been pushed to? (A switch the installer meets first gets a sync.) */
  knows(switchId: string): boolean {
    return this.#switches.has(switchId);
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.forgetSwitches();
  }
}
