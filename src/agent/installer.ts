// SPDX-License-Identifier: BSD-2-Clause
/**
 * The agent's core loop: read upcall requests in batches, resolve each
 * (VNI, MAC) (an L2 miss) or (VNI, IP) (an L3 miss: an ARP request or
 * neighbour solicitation the switch could not answer) once however many
 * requests ask for it, with a bound on resolutions in flight, answer in
 * batches (which installs the forwarding entries, for an L3 miss the
 * neighbour entry and the CAM entry of its MAC, and releases the held
 * frames), then keep those entries true: refresh the ones still in use
 * before they expire, and update or drop them the moment their mapping
 * moves or goes (or an address changes hands).
 *
 * Memory stays bounded under a miss storm: the kernel holds at most
 * VPC_PENDING_MAX requests, and everything here is keyed by them.
 */
import type { Logger } from 'pino';
import {
  answerUpcalls, Switch, VpcError, VpcRemovedError, VpcNotFoundError, VpcUnavailableError, listObjects,
  type CamSpec, type NeighbourEntry, type NeighbourSpec, type UpcallAnswer, type UpcallBatch, type UpcallRequest, type UpcallResult,
  type UpcallStream,
} from '../vpc/index.ts';
import { ipKey, mappingKey, type Mapping, type MappingTarget } from '../directory/index.ts';
import type { Metrics } from './metrics.ts';
import { readPaged } from './paged-read.ts';
import { PendingChanges } from './pending-changes.ts';
import type { IpChange, MappingChange, Resolution, Resolver } from './resolver.ts';

export interface InstallerOptions {
  /** TTL of installed entries in ms (0: static). */
  ttlMs: number;
  /** TTL of negative answers in ms. */
  negativeTtlMs: number;
  /** Resolutions in flight at most. */
  concurrency: number;
  /** How often entries in use are refreshed (default ttl/4). */
  refreshMs?: number;
  /** Called when an answer makes a switch known here for the first time. */
  onSwitch?: (switchId: string) => void;
  /**
   * Does push mode own this MAC's entry on this switch (pusher.ts)?  Its
   * moves are then the pusher's alone: it sets the entry anew from the
   * directory, so following them here too would make every move cost
   * twice the calls to the kernel.  Removals stay the installer's (the
   * pusher lets go of a removed MAC at once).
   */
  pushed?: (switchId: string, mac: string) => boolean;
  /**
   * The upcall relay (relay.ts), when the stream comes through it: paused
   * while anything is resolved here, as #quickAnswers stops then too.
   */
  relay?: { pause(paused: boolean): void };
}

/** Mapping changes applied per turn of the event loop. */
const CHANGES_PER_BATCH = 8192;
/** Up to this many changes for a switch are looked up one by one; more against a view of its table. */
const FEW_CHANGES = 16;

/**
 * What a switch's table held, read once from epoch `epoch` on: valid for
 * every change reported at that epoch or before (an entry installed since,
 * by an answer, a push or this installer, came from a directory that had
 * the change already).  A 200,000-mapping reload is one epoch: one read of
 * the table, not one per batch of changes.
 */
interface CamView {
  epoch: number;
  /** Destination MACs with an entry that is not a local port's (remote or negative). */
  installed: Set<string>;
}

interface NeighbourView {
  epoch: number;
  /** Entries by address, the local vmnics' left out. */
  installed: Map<string, NeighbourEntry>;
}

interface Flight {
  requests: UpcallRequest[];
}

/** Limits how many resolutions run at once. */
class Semaphore {
  #free: number;
  #waiters: Array<() => void> = [];

  constructor(n: number) {
    this.#free = n;
  }

  async take(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((r) => this.#waiters.push(r));
  }

  give(): void {
    const w = this.#waiters.shift();
    if (w) w();
    else this.#free++;
  }
}

export class Installer {
  readonly #flights = new Map<string, Flight>();
  readonly #answers: Array<{ answer: UpcallAnswer; req: UpcallRequest }> = [];
  readonly #switches = new Map<string, { sw: Switch; vni: number }>();
  readonly #sem: Semaphore;
  readonly #changes = new PendingChanges<MappingChange>();
  readonly #ipChanges = new PendingChanges<IpChange>();
  /** The resolver's epoch when the last change was reported: no pending change is newer (see Resolver.epoch). */
  #changesEpoch = 0;
  #following = false;
  /** Views of the tables, by switch id, while changes are being followed. */
  readonly #camViews = new Map<string, CamView>();
  readonly #nbrViews = new Map<string, NeighbourView>();
  #flushQueued = false;
  /** Inside #answerBatch, which flushes at its end: no separate flush to queue. */
  #inBatch = false;
  #stopping = false;
  #refresh: NodeJS.Timeout | undefined;
  #refreshing = false;
  #settled: Array<() => void> = [];

  constructor(
    private readonly resolver: Resolver,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly opts: InstallerOptions,
  ) {
    this.#sem = new Semaphore(opts.concurrency);
    resolver.on('change', (c) => this.#push(c));
    resolver.on('ipChange', (c) => this.#pushIp(c));
    const every = opts.refreshMs ?? (opts.ttlMs > 0 ? Math.max(250, Math.floor(opts.ttlMs / 4)) : 0);
    if (every > 0) {
      this.#refresh = setInterval(() => this.#refreshInUse(), every);
      this.#refresh.unref();
    }
  }

  /** Read and answer until the stream ends; after stop(), what arrives is left to the next reader. */
  run(stream: UpcallStream): Promise<void> {
    return stream.listen((batch) => this.#answerBatch(batch));
  }

  #answerBatch(batch: UpcallBatch): void {
    if (this.#stopping) return;
    // The relay answered the leading requests it knew already (FOUND, from
    // the resolver's own mappings): they are counted, logged and followed
    // below as if answered here.
    const ahead = batch.answeredAhead;
    // Answered first, decoded after: on a lone miss the VM waits for
    // exactly the work done before the answer, and with cold caches each
    // object and function it touches costs.
    const quick = this.#quickAnswers(batch, ahead);
    let sent: { results: UpcallResult[]; at: bigint } | undefined;
    if (quick.length > 0) sent = this.#send(quick);
    // Per batch, not per record: the counters' sums are the same, and a
    // debug line's object is not even built unless it is logged.
    const debug = this.log.isLevelEnabled('debug');
    const relayed: Array<{ answer: UpcallAnswer; req: UpcallRequest }> = [];
    const answered: Array<{ answer: UpcallAnswer; req: UpcallRequest }> = [];
    let l3 = 0;
    this.#inBatch = true;
    try {
      for (let i = 0; i < batch.length; i++) {
        const r = batch.request(i);
        if (r.kind === 'l3') l3++;
        if (i < ahead) {
          if (debug) this.#logUpcall(r);
          relayed.push({ answer: { id: r.id, generation: r.generation, found: true, ttlMs: this.opts.ttlMs }, req: r });
        } else if (i < ahead + quick.length) {
          if (debug) this.#logUpcall(r);
          answered.push({ answer: quick[i - ahead]!, req: r });
        } else {
          this.#take(r, debug);
        }
      }
    } catch (e) {
      this.#inBatch = false;
      this.flush();     // what the batch answered before the throw still goes out
      throw e;
    }
    this.#inBatch = false;
    this.metrics.upcalls.inc(batch.length);
    if (l3 > 0) this.metrics.l3Upcalls.inc(l3);
    if (ahead > 0) {
      this.metrics.relayed.inc(ahead);
      const results: UpcallResult[] = [];
      for (let i = 0; i < ahead; i++) results.push(batch.aheadResult(i));
      this.#account(relayed, results, batch.aheadAtNs);
    }
    if (sent !== undefined) this.#account(answered, sent.results, sent.at);
    // What was answered at once goes to the kernel now, not a turn of the
    // event loop later.
    if (this.#answers.length > 0) this.flush();
  }

  /**
   * Answers to the batch's leading L2 requests from `from` on (the ones
   * before it the relay answered), from a resolver that answers from
   * memory: what #take would answer them (through resolveNow), read
   * straight from the records; the relay's stop is often a MAC the
   * directory does not have, answered here.  Stops at the first request it cannot
   * answer so (an L3 one, a resolver that cannot tell or fails): that one
   * and the rest go the usual way, in order.  Not while anything is in
   * flight, as in #take.
   */
  #quickAnswers(batch: UpcallBatch, from: number): UpcallAnswer[] {
    const out: UpcallAnswer[] = [];
    if (this.resolver.resolveTarget === undefined || this.#flights.size > 0) return out;
    for (let i = from; i < batch.length && batch.kind(i) === 'l2'; i++) {
      let t: MappingTarget | null | undefined;
      try {
        t = this.resolver.resolveTarget(batch.vni(i), batch.macHi(i), batch.macLo(i));
      } catch {
        break;          // #take asks again, and counts and logs the failure
      }
      if (t === undefined) break;
      out.push(this.#answerOf(batch.id(i), batch.generation(i), t));
    }
    return out;
  }

  #logUpcall(r: UpcallRequest): void {
    const l3 = r.kind === 'l3';
    this.log.debug({ req: r.id.toString(), gen: r.generation.toString(), kind: r.kind, vni: r.vni, ...(l3 ? { ip: r.dstIp } : { mac: r.dstMac }), sw: r.switchId }, 'upcall');
  }

  #take(r: UpcallRequest, debug: boolean): void {
    const l3 = r.kind === 'l3';
    if (debug) this.#logUpcall(r);
    if (!l3 && this.resolver.resolveNow !== undefined && this.#flights.size === 0) {
      // A resolver that answers from memory (the file's table, etcd's
      // watched copy) answers now: the same answer resolve() would give,
      // without a promise, a semaphore turn and a flight per request.  Not
      // while anything is in flight, so a request never overtakes an
      // earlier one for the same MAC.
      let res: Resolution;
      try {
        res = this.resolver.resolveNow(r.vni, r.dstMac);
      } catch (e) {
        this.metrics.resolverErrors.inc();
        this.log.warn({ vni: r.vni, mac: r.dstMac, err: (e as Error).message }, 'resolver failed');
        res = undefined;
      }
      this.#settle(r.vni, { mac: r.dstMac }, [r], res);
      return;
    }
    const key = l3 ? `ip:${ipKey(r.vni, r.dstIp ?? '')}` : mappingKey(r.vni, r.dstMac);
    const f = this.#flights.get(key);
    if (f) {
      // The same (VNI, MAC): one resolution answers every request for it.
      const same = f.requests.findIndex((q) => q.id === r.id);
      if (same >= 0) f.requests[same] = r;     // handed out again: newer generation
      else f.requests.push(r);
      return;
    }
    const flight: Flight = { requests: [r] };
    this.#flights.set(key, flight);
    this.metrics.inflight.set(this.#flights.size);
    if (this.#flights.size === 1) this.opts.relay?.pause(true);
    void this.#resolve(key, flight, r.vni, l3 ? { ip: r.dstIp ?? '' } : { mac: r.dstMac });
  }

  async #resolve(key: string, flight: Flight, vni: number, what: { mac: string } | { ip: string }): Promise<void> {
    await this.#sem.take();
    let res: Resolution;
    try {
      res = 'ip' in what ? await this.resolver.resolveIp(vni, what.ip) : await this.resolver.resolve(vni, what.mac);
    } catch (e) {
      this.metrics.resolverErrors.inc();
      this.log.warn({ vni, ...what, err: (e as Error).message }, 'resolver failed');
      res = undefined;
    } finally {
      this.#sem.give();
    }
    this.#flights.delete(key);
    this.metrics.inflight.set(this.#flights.size);
    if (this.#flights.size === 0 && !this.#stopping) this.opts.relay?.pause(false);
    this.#settle(vni, what, flight.requests, res);
    if (this.#flights.size === 0) for (const s of this.#settled.splice(0)) s();
  }

  /** Answer requests with what their resolution said. */
  #settle(vni: number, what: { mac: string } | { ip: string }, requests: UpcallRequest[], res: Resolution): void {
    if (res === undefined) {
      // Cannot tell (directory down, nothing cached): better no answer than a
      // wrong negative one.  The kernel times the request out; the next
      // frame asks again.
      this.metrics.unresolved.inc(requests.length);
      this.log.warn({ vni, ...what }, 'no answer: directory unreachable and nothing cached');
    } else {
      for (const r of requests) this.#queueAnswer(r, res);
    }
  }

  /** The answer to request (id, generation) whose resolution is t (null: not found). */
  #answerOf(id: bigint, generation: bigint, t: MappingTarget | null, mac?: string): UpcallAnswer {
    return t
      ? {
        id, generation, found: true, vtep: t.vtep, ...(t.port ? { port: t.port } : {}), ttlMs: this.opts.ttlMs,
        revision: Number(t.revision), ...(mac !== undefined ? { mac } : {}),
      }
      : { id, generation, found: false, ttlMs: this.opts.negativeTtlMs };
  }

  #queueAnswer(r: UpcallRequest, m: Mapping | null): void {
    // An L3 answer carries the MAC that has the address and that MAC's VTEP:
    // the kernel installs the neighbour entry and the CAM entry in one step.
    this.#answers.push({ answer: this.#answerOf(r.id, r.generation, m, r.kind === 'l3' && m ? m.mac : undefined), req: r });
    if (!this.#flushQueued && !this.#inBatch) {
      this.#flushQueued = true;
      setImmediate(() => this.flush());
    }
  }

  /** Send the answers gathered so far, in batches. */
  flush(): void {
    this.#flushQueued = false;
    const batch = this.#answers.splice(0);
    if (batch.length === 0) return;
    const sent = this.#send(batch.map((b) => b.answer));
    if (sent !== undefined) this.#account(batch, sent.results, sent.at);
  }

  /** Deliver answers to the kernel; undefined (and logged) if they could not be. */
  #send(answers: UpcallAnswer[]): { results: UpcallResult[]; at: bigint } | undefined {
    try {
      return { results: answerUpcalls(answers), at: process.hrtime.bigint() };
    } catch (e) {
      this.log.error({ err: (e as Error).message, answers: answers.length }, 'answers not delivered');
      return undefined;
    }
  }

  /** Count and log what the kernel said of each answer; now: when they were delivered. */
  #account(batch: Array<{ answer: UpcallAnswer; req: UpcallRequest }>, results: UpcallResult[], now: bigint): void {
    const debug = this.log.isLevelEnabled('debug');
    // Counted per batch (labels are a lookup per inc), observed per answer.
    let found = 0, notFound = 0, l3Found = 0, l3NotFound = 0;
    results.forEach((err, i) => {
      const { answer, req } = batch[i]!;
      if (err === null) {
        const l3 = req.kind === 'l3';
        if (answer.found) {
          found++;
          if (l3) l3Found++;
        } else {
          notFound++;
          if (l3) l3NotFound++;
        }
        const latencyMs = Number(now - req.timeNs) / 1e6;
        if (answer.found) {
          this.metrics.latency.observe(latencyMs / 1e3);
          this.#remember(req);
        }
        if (debug) this.log.debug({ req: req.id.toString(), found: answer.found, latencyMs }, 'answered');
      } else {
        // ESTALE: handed out again meanwhile (the newer delivery gets its own
        // answer); ENOENT: timed out or answered already.
        this.metrics.refused.inc({ reason: err });
        if (debug) this.log.debug({ req: req.id.toString(), reason: err }, 'answer refused');
      }
    });
    if (found > 0) {
      this.metrics.answers.inc({ result: 'found' }, found);
      this.metrics.installed.inc(found);
    }
    if (notFound > 0) this.metrics.answers.inc({ result: 'not_found' }, notFound);
    if (l3Found > 0) this.metrics.l3Answers.inc({ result: 'found' }, l3Found);
    if (l3NotFound > 0) this.metrics.l3Answers.inc({ result: 'not_found' }, l3NotFound);
  }

  #remember(r: UpcallRequest): void {
    if (this.#switches.has(r.switchId)) return;
    try {
      this.#switches.set(r.switchId, { sw: Switch.open(r.switchId), vni: r.vni });
      this.opts.onSwitch?.(r.switchId);
    } catch (e) {
      if (!(e instanceof VpcNotFoundError)) this.log.warn({ sw: r.switchId, err: (e as Error).message }, 'cannot follow switch');
    }
  }

  /**
   * Switches carrying vni: the ones we answered for, and any other there is.
   * listed (per batch of changes) says whether the kernel's switches were
   * listed already, so a VNI no switch here carries costs one listing per
   * batch, not one per change.
   */
  #switchesFor(vni: number, listed?: { done: boolean }): Switch[] {
    if ((!listed || !listed.done) && ![...this.#switches.values()].some((s) => s.vni === vni)) {
      if (listed) listed.done = true;
      for (const o of listObjects('switch')) {
        if (this.#switches.has(o.id)) continue;
        try {
          const sw = Switch.open(o.id);
          const v = sw.vni();
          if (v === undefined) sw.close();
          else this.#switches.set(o.id, { sw, vni: v });
        } catch { /* gone meanwhile */ }
      }
    }
    return [...this.#switches.values()].filter((s) => s.vni === vni).map((s) => s.sw);
  }

  /** Is this handle still the one followed for its switch? */
  #holds(sw: Switch): boolean {
    return this.#switches.get(sw.id)?.sw === sw;
  }

  #forget(sw: Switch): void {
    this.#switches.delete(sw.id);
    this.#camViews.delete(sw.id);
    this.#nbrViews.delete(sw.id);
    try { sw.close(); } catch { /* already closed */ }
  }

  /** The kernel went away (vpc-hostd restarted): handles to its switches mean nothing now. */
  forgetSwitches(): void {
    for (const { sw } of [...this.#switches.values()]) this.#forget(sw);
  }

  /**
   * A mapping moved or went: installed entries follow now, not at their next
   * miss.  Changes are gathered (the last one per mapping wins) and applied
   * a batch per turn of the event loop, so a reloaded directory with 200,000
   * changes neither blocks the loop nor costs a kernel call per change.
   */
  #push(c: MappingChange): void {
    this.#changes.set(c.mac.toLowerCase(), c);
    this.#changesEpoch = this.resolver.epoch;
    this.#follow();
  }

  #pushIp(c: IpChange): void {
    this.#ipChanges.set(c.ip, c);
    this.#changesEpoch = this.resolver.epoch;
    this.#follow();
  }

  #follow(): void {
    if (this.#following) return;
    this.#following = true;
    setImmediate(() => {
      this.#applyChanges()
        .catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'could not follow mapping changes'))
        .finally(() => {
          this.#following = false;
          // Done (or failed): the views go; the next changes read the tables again.
          this.#camViews.clear();
          this.#nbrViews.clear();
          if (!this.#stopping && (this.#changes.size > 0 || this.#ipChanges.size > 0)) this.#follow();
        });
    });
  }

  /** Apply what is pending, a batch per turn of the event loop, until nothing is. */
  async #applyChanges(): Promise<void> {
    while (!this.#stopping && (this.#changes.size > 0 || this.#ipChanges.size > 0)) {
      // No change in the batch is newer than this: a view read from it on is valid for them all.
      const epoch = this.#changesEpoch;
      const before = this.#changes.size;
      const batch = this.#changes.take(CHANGES_PER_BATCH);
      // Addresses after the mappings: an address's new MAC then has its CAM entry right.
      const ipBatch = this.#ipChanges.take(CHANGES_PER_BATCH - (before - this.#changes.size));
      const listed = { done: false };
      for (const [vni, changes] of batch) {
        for (const sw of this.#switchesFor(vni, listed)) await this.#followMacs(sw, changes, epoch);
      }
      for (const [vni, changes] of ipBatch) {
        for (const sw of this.#switchesFor(vni, listed)) await this.#followIps(sw, changes, epoch);
      }
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** The switch's CAM as a view valid for changes reported at epoch `need` or before: the one read already, or a new read. */
  async #camView(sw: Switch, need: number): Promise<CamView> {
    const had = this.#camViews.get(sw.id);
    if (had && had.epoch >= need) return had;
    const view: CamView = { epoch: this.resolver.epoch, installed: new Set() };
    await readPaged((m) => sw.camDumpPage(m), () => sw.camDump(), (e) => {
      if (!e.src && e.kind !== 'local') view.installed.add(e.dst);
    }, () => view.installed.clear());
    if (this.#holds(sw)) this.#camViews.set(sw.id, view);
    return view;
  }

  async #neighbourView(sw: Switch, need: number): Promise<NeighbourView> {
    const had = this.#nbrViews.get(sw.id);
    if (had && had.epoch >= need) return had;
    const view: NeighbourView = { epoch: this.resolver.epoch, installed: new Map() };
    await readPaged((m) => sw.neighbours.dumpPage(m), () => sw.neighbours.dump(), (e) => {
      if (e.kind !== 'local') view.installed.set(e.ip, e);
    }, () => view.installed.clear());
    if (this.#holds(sw)) this.#nbrViews.set(sw.id, view);
    return view;
  }

  /**
   * Apply address changes of one VNI to one switch's neighbour entries:
   * an installed entry whose address moved gets the new MAC (the kernel then
   * tells local VMs that asked for it: gratuitous ARP, unsolicited NA) and
   * the new MAC its CAM entry; one whose address went is dropped.  Local
   * entries (the switch's own vmnics) are the kernel's.
   */
  async #followIps(sw: Switch, changes: IpChange[], need: number): Promise<void> {
    try {
      let installed: (ip: string) => NeighbourEntry | undefined;
      const few = changes.length <= FEW_CHANGES;
      const had = this.#nbrViews.get(sw.id);
      if (had && had.epoch >= need) {
        installed = (ip) => had.installed.get(ip);
      } else if (few) {
        installed = (ip) => {
          try {
            return sw.neighbours.get(ip);
          } catch (e) {
            if (e instanceof VpcNotFoundError) return undefined;
            throw e;
          }
        };
      } else {
        const view = await this.#neighbourView(sw, need);
        if (!this.#holds(sw)) return;
        installed = (ip) => view.installed.get(ip);
      }
      const view = this.#nbrViews.get(sw.id);
      const sets: NeighbourSpec[] = [];
      const cams: CamSpec[] = [];
      for (const c of changes) {
        const cur = installed(c.ip);
        if (!cur || cur.kind === 'local') continue;
        if (c.mapping) {
          if (cur.kind === 'found' && cur.mac === c.mapping.mac && cur.revision >= Number(c.revision)) continue;
          sets.push({ ip: c.ip, mac: c.mapping.mac, ttlMs: this.opts.ttlMs, revision: Number(c.revision) });
          if (!this.#isLocalMac(sw, c.mapping.mac)) {
            cams.push({ dst: c.mapping.mac, vtep: c.mapping.vtep, ...(c.mapping.port ? { port: c.mapping.port } : {}), ttlMs: this.opts.ttlMs, revision: Number(c.mapping.revision) });
          }
        } else {
          view?.installed.delete(c.ip);
          try {
            sw.neighbours.del(c.ip);
            this.metrics.nbrPushed.inc({ action: 'drop' });
          } catch (e) {
            if (!(e instanceof VpcNotFoundError)) throw e;
          }
        }
        if (few) this.log.info({ vni: c.vni, ip: c.ip, to: c.mapping?.mac ?? null, sw: sw.id }, c.mapping ? 'address moved: neighbour entry updated' : 'address removed: neighbour entry dropped');
      }
      if (cams.length > 0) sw.camSet(cams);
      if (sets.length > 0) {
        const r = sw.neighbours.set(sets);
        if (r.applied > 0) this.metrics.nbrPushed.inc({ action: 'update' }, r.applied);
      }
    } catch (e) {
      if (e instanceof VpcRemovedError || e instanceof VpcUnavailableError) this.#forget(sw);
      else this.log.warn({ sw: sw.id, changes: changes.length, err: (e as Error).message }, 'could not follow address changes');
    }
  }

  #isLocalMac(sw: Switch, mac: string): boolean {
    try {
      return sw.camGet(mac).kind === 'local';
    } catch (e) {
      if (e instanceof VpcNotFoundError) return false;
      throw e;
    }
  }

  /**
   * Apply changes of one VNI to one switch's entries: few are looked up one
   * by one; many against a view of the table, read once per epoch (what is
   * installed is what the switch's frames needed, or what was pushed).
   * An entry in the view that expired before its change is applied is set
   * again, from the directory as it is now.
   */
  async #followMacs(sw: Switch, changes: MappingChange[], need: number): Promise<void> {
    try {
      let installed: (mac: string) => boolean;
      const few = changes.length <= FEW_CHANGES;
      const had = this.#camViews.get(sw.id);
      if (had && had.epoch >= need) {
        installed = (mac) => had.installed.has(mac);
      } else if (few) {
        installed = (mac) => {
          try {
            return sw.camGet(mac).kind !== 'local';
          } catch (e) {
            if (e instanceof VpcNotFoundError) return false;     // nothing installed here
            throw e;
          }
        };
      } else {
        const view = await this.#camView(sw, need);
        if (!this.#holds(sw)) return;       // forgotten while its table was read (the kernel went away)
        installed = (mac) => view.installed.has(mac);
      }
      const view = this.#camViews.get(sw.id);
      const sets: CamSpec[] = [];
      for (const c of changes) {
        if (c.mapping && this.opts.pushed?.(sw.id, c.mac)) continue;
        if (!installed(c.mac)) continue;
        if (c.mapping) {
          sets.push({ dst: c.mac, vtep: c.mapping.vtep, ...(c.mapping.port ? { port: c.mapping.port } : {}), ttlMs: this.opts.ttlMs, revision: Number(c.revision) });
        } else {
          view?.installed.delete(c.mac);
          try {
            sw.camDel(c.mac);
            this.metrics.pushed.inc({ action: 'drop' });
          } catch (e) {
            if (!(e instanceof VpcNotFoundError)) throw e;    // expired meanwhile: gone anyway
          }
        }
        if (few) this.log.info({ vni: c.vni, mac: c.mac, to: c.mapping?.vtep ?? null, sw: sw.id }, c.mapping ? 'mapping moved: entry updated' : 'mapping removed: entry dropped');
      }
      if (sets.length > 0) {
        const r = sw.camSet(sets);
        if (r.applied > 0) this.metrics.pushed.inc({ action: 'update' }, r.applied);
      }
      if (!few) this.log.info({ sw: sw.id, changes: changes.length, updated: sets.length }, 'mappings changed: installed entries follow');
    } catch (e) {
      if (e instanceof VpcRemovedError || e instanceof VpcUnavailableError) this.#forget(sw);
      else this.log.warn({ sw: sw.id, changes: changes.length, err: (e as Error).message }, 'could not follow mapping changes');
    }
  }

  /** Entries a frame (or a request) used and that are past half their life get a fresh TTL. */
  #refreshInUse(): void {
    if (this.#refreshing) return;      // the last round still reads a big table
    this.#refreshing = true;
    this.#refreshAll()
      .catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'refresh failed'))
      .finally(() => { this.#refreshing = false; });
  }

  /** Each switch's tables read a page per turn of the event loop (65,536 pushed entries take a while). */
  async #refreshAll(): Promise<void> {
    for (const { sw, vni } of [...this.#switches.values()]) {
      if (this.#stopping) return;
      try {
        const half = this.opts.ttlMs / 2;
        const fresh: CamSpec[] = [];
        await readPaged((m) => sw.camDumpPage(m), () => sw.camDump(), (e) => {
          if (e.kind !== 'remote' || !e.used || e.ttlMs <= 0 || e.ttlMs >= half) return;
          const m = this.resolver.cached(vni, e.dst);
          if (m) fresh.push({ dst: e.dst, vtep: m.vtep, ...(m.port ? { port: m.port } : {}), ttlMs: this.opts.ttlMs, revision: Number(m.revision) });
        }, () => { fresh.length = 0; });
        if (!this.#holds(sw)) continue;      // forgotten meanwhile (the kernel went away)
        if (fresh.length > 0) {
          sw.camSet(fresh);
          this.metrics.refreshed.inc(fresh.length);
        }
        const nfresh: NeighbourSpec[] = [];
        await readPaged((m) => sw.neighbours.dumpPage(m), () => sw.neighbours.dump(), (e) => {
          if (e.kind !== 'found' || !e.used || e.ttlMs <= 0 || e.ttlMs >= half) return;
          const m = this.resolver.cachedIp(vni, e.ip);
          if (m) nfresh.push({ ip: e.ip, mac: m.mac, ttlMs: this.opts.ttlMs, revision: Number(m.revision) });
        }, () => { nfresh.length = 0; });
        if (!this.#holds(sw)) continue;
        if (nfresh.length > 0) {
          sw.neighbours.set(nfresh);
          this.metrics.refreshed.inc(nfresh.length);
        }
      } catch (e) {
        if (e instanceof VpcRemovedError || e instanceof VpcUnavailableError) this.#forget(sw);
        else if (e instanceof VpcError) this.log.warn({ sw: sw.id, err: e.message }, 'refresh failed');
        else throw e;
      }
    }
  }

  /** Stop reading; finish what is in flight and send its answers (bounded wait). */
  async stop(timeoutMs = 5000): Promise<void> {
    this.#stopping = true;
    this.opts.relay?.pause(true);      // what comes now is the next reader's
    clearInterval(this.#refresh);
    if (this.#flights.size > 0) {
      await Promise.race([
        new Promise<void>((r) => this.#settled.push(r)),
        new Promise<void>((r) => setTimeout(r, timeoutMs).unref()),
      ]);
    }
    this.flush();
    for (const { sw } of this.#switches.values()) {
      try { sw.close(); } catch { /* closed */ }
    }
    this.#switches.clear();
  }
}
