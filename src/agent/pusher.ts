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
 * rather than point at a VM's old node forever.  A move of a pushed MAC is
 * this module's alone (the installer skips it: one owner, half the calls);
 * removals, and moves of entries that frames made (misses), are the
 * installer's.
 *
 * Never holds the event loop for long: what is to be installed is a set of
 * dirty MACs per switch, drained a kernel batch (VPC_CAM_BATCH_MAX entries,
 * one vpc_ctl call; its addresses one more) at a time, with a turn of the
 * event loop whenever a slice has taken SLICE_MS, so upcalls are answered
 * during a preload of any size.  Each entry is looked up in the directory
 * as it is installed, not when it was marked: a newer directory version
 * (a reload, a change) supersedes what an in-progress sync would have
 * installed, and a burst of changes marks MACs again rather than queuing
 * work.  Syncs asked for while one runs are folded into one more pass.
 *
 * Bounded: at most `cap` pushed entries per switch.  A VNI with more mappings
 * than that keeps the ones frames used since they were set first (the CAM's
 * used flag), then the rest in directory order; what is left out, or no
 * longer chosen, is not renewed and expires: least recently used first out.
 */
import type { Logger } from 'pino';
import {
  cidrParse, ipBytes, listObjects, Switch, VpcBusyError, VpcNotFoundError, VpcRemovedError, VpcUnavailableError,
  type CamSpec, type NeighbourSpec,
} from '../vpc/index.ts';
import type { Mapping } from '../directory/index.ts';
import type { Metrics } from './metrics.ts';
import { readPaged } from './paged-read.ts';
import type { MappingChange, Resolver } from './resolver.ts';

export interface PushOptions {
  /** TTL of pushed entries in ms (0: static). */
  ttlMs: number;
  /** Pushed entries per switch at most. */
  cap: number;
  /** Resync period in ms (default: a quarter of the TTL, at least 1 s; 60 s for static entries). */
  resyncMs?: number;
}

/** Entries per install step: one CAM_SET call (VPC_CAM_BATCH_MAX), and one NBR_SET per address family at most. */
const STEP = 256;
/** A turn of the event loop once a slice of steps has taken this long. */
const SLICE_MS = 4;

type Subnet = { af: 4 | 6; bytes: number[]; prefix: number };

interface Pushed {
  sw: Switch;
  vni: number;
  /** MACs chosen at the last sync or added since (at most cap). */
  macs: Set<string>;
  /** Chosen MACs still to be installed (or renewed). */
  dirty: Set<string>;
  /** The switch's own: never pushed over (the kernel refuses a batch that would). */
  localMacs: Set<string>;
  localIps: Set<string>;
  subnets: Subnet[];
}

/** One sync (or several folded into one): its counts, and who waits for it. */
interface Round {
  why: string[];
  t0: number;
  cam: number;
  nbr: number;
  steps: number;
  waiters: Array<() => void>;
}

/** Is the address inside one of the subnets? (The kernel refuses a neighbour entry outside them.) */
function inSubnets(ip: string, subnets: readonly Subnet[]): boolean {
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

const turn = () => new Promise<void>((r) => setImmediate(r));

export class Pusher {
  readonly #switches = new Map<string, Pushed>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Syncs asked for and not started yet (folded into one). */
  #asked: string[] = [];
  #askedWaiters: Array<() => void> = [];
  #round: Round | undefined;
  #running: Promise<void> | undefined;

  constructor(
    private readonly resolver: Resolver,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly opts: PushOptions,
  ) {
    resolver.on('change', (c) => this.#changed(c));
    const every = opts.resyncMs ?? (opts.ttlMs > 0 ? Math.max(1000, Math.floor(opts.ttlMs / 4)) : 60_000);
    this.#timer = setInterval(() => void this.sync('resync'), every);
    this.#timer.unref();
  }

  /**
   * Install every VNI's mappings on every switch here (on start, after the
   * kernel came back, on a new switch, and periodically).  Resolves once a
   * sync that started after this call has installed everything (upcalls are
   * answered meanwhile).  Asked while one runs, it is folded into one more
   * pass.  A failure is logged; the next sync tries again (a miss meanwhile
   * is answered as without push).
   */
  sync(why: string): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const done = new Promise<void>((r) => this.#askedWaiters.push(r));
    this.#asked.push(why);
    this.#kick();
    return done;
  }

  #kick(): void {
    if (this.#running || this.#stopped) return;
    this.#running = this.#loop()
      .catch((e: unknown) => this.log.warn({ event: 'push', err: (e as Error).message }, 'could not push mappings; the next sync tries again'))
      .finally(() => {
        this.#running = undefined;
        // Whoever still waits (stopped, or failed): nothing more comes of this round.
        if (this.#round) this.#finish(this.#round, false);
        if (this.#stopped) for (const w of this.#askedWaiters.splice(0)) w();
        else if (this.#asked.length > 0 || this.#anyDirty()) this.#kick();
      });
  }

  #anyDirty(): boolean {
    for (const p of this.#switches.values()) if (p.dirty.size > 0) return true;
    return false;
  }

  /** Plan the syncs asked for, drain what is dirty; again while more is asked. */
  async #loop(): Promise<void> {
    while (!this.#stopped) {
      if (this.#asked.length > 0) {
        const why = this.#asked.splice(0);
        const waiters = this.#askedWaiters.splice(0);
        if (this.#round) {
          // Superseded: the round in progress and this one end together.
          this.#round.why.push(...why);
          this.#round.waiters.push(...waiters);
        } else {
          this.#round = { why, t0: performance.now(), cam: 0, nbr: 0, steps: 0, waiters };
        }
        await this.#plan();
        continue;
      }
      // Changes alone (no sync asked): a round of their own, for the log.
      this.#round ??= { why: ['changes'], t0: performance.now(), cam: 0, nbr: 0, steps: 0, waiters: [] };
      if (!(await this.#drainSlice())) break;
    }
    if (this.#round && !this.#stopped) this.#finish(this.#round, true);
  }

  #finish(r: Round, log: boolean): void {
    this.#round = undefined;
    this.metrics.pushEntries.set([...this.#switches.values()].reduce((n, p) => n + p.macs.size, 0));
    if (log) {
      this.log.info({
        event: 'push', why: [...new Set(r.why)].join(','), switches: this.#switches.size, cam: r.cam, neighbours: r.nbr,
        calls: r.steps, ms: Math.round(performance.now() - r.t0),
      }, 'mappings pushed to the switches');
    }
    for (const w of r.waiters) w();
  }

  /** Find the switches, choose each one's mappings (up to cap) and mark them dirty. */
  async #plan(): Promise<void> {
    const seen = new Set<string>();
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
          p = { sw, vni, macs: new Set(), dirty: new Set(), localMacs: new Set(), localIps: new Set(), subnets: [] };
          this.#switches.set(o.id, p);
        } catch {
          continue;     // gone meanwhile
        }
      }
      await this.#choose(p);
      await turn();     // a switch's tables were read: let answers through
      if (this.#stopped) return;
    }
    for (const [id, p] of this.#switches) if (!seen.has(id)) this.#drop(p);
  }

  /** One switch: what is its own, and up to cap mappings of its VNI, marked dirty. */
  async #choose(p: Pushed): Promise<void> {
    try {
      const used = await this.#readLocal(p);
      let chosen = this.resolver.mappingsOf(p.vni).filter((m) => !p.localMacs.has(m.mac));
      if (chosen.length > this.opts.cap) {
        // Used ones first (a stable sort keeps directory order within each).
        chosen = chosen.sort((a, b) => Number(used.has(b.mac)) - Number(used.has(a.mac))).slice(0, this.opts.cap);
        this.metrics.pushOverCap.inc();
      }
      p.macs = new Set(chosen.map((m) => m.mac));
      for (const mac of p.macs) p.dirty.add(mac);
      for (const mac of p.dirty) if (!p.macs.has(mac)) p.dirty.delete(mac);
    } catch (e) {
      this.#failed(p, e);
    }
  }

  /**
   * The switch's own MACs and addresses, and its subnets, its tables read a
   * page per turn of the event loop (65,536 pushed entries take a while);
   * returns the remote MACs a frame used since they were set.
   */
  async #readLocal(p: Pushed): Promise<Set<string>> {
    const localMacs = new Set<string>();
    const used = new Set<string>();
    await readPaged((m) => p.sw.camDumpPage(m), () => p.sw.camDump(), (e) => {
      if (e.kind === 'local') localMacs.add(e.dst);
      else if (e.kind === 'remote' && e.used) used.add(e.dst);
    }, () => {
      localMacs.clear();
      used.clear();
    });
    const subnets = p.sw.subnets().map((c) => cidrParse(c));
    const localIps = new Set<string>();
    if (subnets.length > 0) {
      await readPaged((m) => p.sw.neighbours.dumpPage(m), () => p.sw.neighbours.dump(), (e) => {
        if (e.kind === 'local') localIps.add(e.ip);
      }, () => localIps.clear());
    }
    p.localMacs = localMacs;
    p.subnets = subnets;
    p.localIps = localIps;
    return used;
  }

  /** A mapping appeared, moved or went: mark it on the switches of its VNI. */
  #changed(c: MappingChange): void {
    let marked = false;
    for (const p of this.#switches.values()) {
      // The switch's own MAC (a directory entry for a VM plugged in here) is never pushed, so it takes no place under the cap.
      if (p.vni !== c.vni || p.localMacs.has(c.mac)) continue;
      if (!c.mapping) {
        // Its entry is the installer's to drop; it no longer counts against the cap.
        p.macs.delete(c.mac);
        p.dirty.delete(c.mac);
      } else if (p.macs.has(c.mac) || p.macs.size < this.opts.cap) {
        p.macs.add(c.mac);
        p.dirty.add(c.mac);
        marked = true;
      }
    }
    if (marked) this.#kick();
  }

  /**
   * Install dirty entries, a step at a time, until SLICE_MS has passed; then
   * a turn of the event loop.  Returns whether anything is left.
   */
  async #drainSlice(): Promise<boolean> {
    const t0 = performance.now();
    let any = false;
    for (const p of [...this.#switches.values()]) {
      while (p.dirty.size > 0 && this.#switches.get(p.sw.id) === p) {
        any = true;
        await this.#step(p);
        if (performance.now() - t0 >= SLICE_MS) {
          await turn();
          return true;
        }
      }
    }
    if (any) await turn();
    return any;
  }

  /** Up to STEP dirty entries of one switch, as the directory has them now. */
  async #step(p: Pushed): Promise<void> {
    const ms: Mapping[] = [];
    for (const mac of p.dirty) {
      p.dirty.delete(mac);
      const m = this.resolver.cached(p.vni, mac);
      if (m && p.macs.has(mac) && !p.localMacs.has(mac)) ms.push(m);
      if (ms.length === STEP) break;
    }
    if (ms.length === 0) return;
    try {
      this.#install(p, ms);
    } catch (e) {
      if (!(e instanceof VpcBusyError)) {
        this.#failed(p, e);
        return;
      }
      // A VM was plugged in since its switch was read: read it again, once.
      try {
        await this.#readLocal(p);
        this.#install(p, ms.filter((m) => !p.localMacs.has(m.mac)));
      } catch (e2) {
        this.#failed(p, e2);
      }
    }
  }

  #install(p: Pushed, ms: Mapping[]): void {
    if (ms.length === 0) return;
    const ttlMs = this.opts.ttlMs;
    const cams: CamSpec[] = ms.map((m) => ({
      dst: m.mac, vtep: m.vtep, ...(m.port ? { port: m.port } : {}), ttlMs, revision: Number(m.revision),
    }));
    const r = p.sw.camSet(cams);
    let nbr = 0;
    let calls = 1;
    if (p.subnets.length > 0) {
      const nbrs: NeighbourSpec[] = [];
      for (const m of ms) {
        for (const ip of [m.ip, m.ip6]) {
          if (ip !== undefined && !p.localIps.has(ip) && inSubnets(ip, p.subnets)) nbrs.push({ ip, mac: m.mac, ttlMs, revision: Number(m.revision) });
        }
      }
      if (nbrs.length > 0) {
        nbr = p.sw.neighbours.set(nbrs).applied;
        calls += Math.ceil(nbrs.length / STEP);
      }
    }
    this.metrics.pushInstalled.inc({ table: 'cam' }, r.applied);
    this.metrics.pushInstalled.inc({ table: 'neighbour' }, nbr);
    if (this.#round) {
      this.#round.cam += r.applied;
      this.#round.nbr += nbr;
      this.#round.steps += calls;
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

  /** Is this MAC's entry on this switch one of the pushed ones (chosen under the cap)? */
  owns(switchId: string, mac: string): boolean {
    return this.#switches.get(switchId)?.macs.has(mac) ?? false;
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.forgetSwitches();
  }
}
