// SPDX-License-Identifier: BSD-2-Clause
/**
 * A resolver answers "where does (VNI, MAC) live?" and "which MAC has (VNI,
 * IP)?" from the mapping directory, and says when a mapping moves or goes
 * (and when an address changes hands), so installed entries can follow at
 * once rather than at their next miss.
 */
import { EventEmitter } from 'node:events';
import type { Mapping, MappingTarget } from '../directory/index.ts';
import type { AnswerRecords } from '../vpc/index.ts';

/** A mapping appeared, moved (mapping set) or went away (mapping undefined). */
export interface MappingChange {
  vni: number;
  mac: string;
  mapping: Mapping | undefined;
  revision: bigint;
}

/** An address of a VNI now belongs to mapping (its MAC), or to none. */
export interface IpChange {
  vni: number;
  ip: string;
  mapping: Mapping | undefined;
  revision: bigint;
}

export interface ResolverEvents {
  change: [MappingChange];
  ipChange: [IpChange];
  degraded: [Error];
  recovered: [];
}

/**
 * The answer to a lookup: a mapping, null when the directory says there is
 * none, undefined when the resolver cannot tell (degraded, nothing cached):
 * then no answer is better than a wrong negative one.
 */
export type Resolution = Mapping | null | undefined;

/**
 * A copy of what resolveTarget() finds, kept equal to it in the same
 * synchronous step as each change (the upcall relay's table, relay.ts).
 */
export interface TargetMirror {
  /** Everything anew, from the directory's records as they lie (targetRecords()). */
  replace(records: AnswerRecords): void;
  /** (vni, MAC) now lives at t, or (undefined) is not known. */
  set(vni: number, macHi: number, macLo: number, t: MappingTarget | undefined): void;
}

export abstract class Resolver extends EventEmitter<ResolverEvents> {
  abstract readonly kind: 'file' | 'etcd';
  abstract readonly where: string;
  #degraded = false;
  #epoch = 0;
  #mirror: TargetMirror | undefined;

  /**
   * Copy every mapping resolveTarget() finds into m now, and every change
   * from now on (a resolver with resolveTarget only).
   */
  mirrorTo(m: TargetMirror): void {
    this.#mirror = m;
    this.copyAll(m);
  }

  /** The mirror (mirrorTo), which each change of the mappings updates. */
  protected get mirror(): TargetMirror | undefined {
    return this.#mirror;
  }

  /** Put every mapping into m (mirrorTo, and a full reload). */
  protected copyAll(m: TargetMirror): void {
    void m;
    throw new Error(`the ${this.kind} resolver cannot be mirrored`);
  }

  get degraded(): boolean {
    return this.#degraded;
  }

  /**
   * Moves on each time the mappings held here change, before (or in the
   * same synchronous step as) the changes are reported.  So whatever
   * looks a mapping up once the epoch is e sees every change reported at
   * an epoch <= e: a view of the switches' tables read from epoch e on
   * holds, for each such change, either the entry as it was before it or
   * one installed from the directory after it.  The installer reads one
   * such view per epoch rather than one per batch of changes.
   */
  get epoch(): number {
    return this.#epoch;
  }

  /** The mappings are about to change (or just did, with nothing reported yet). */
  protected nextEpoch(): void {
    this.#epoch++;
  }

  protected setDegraded(error: Error | undefined): void {
    if (error && !this.#degraded) {
      this.#degraded = true;
      this.emit('degraded', error);
    } else if (!error && this.#degraded) {
      this.#degraded = false;
      this.emit('recovered');
    }
  }

  /** Load the directory and start following it. */
  abstract start(): Promise<void>;
  abstract resolve(vni: number, mac: string): Promise<Resolution>;
  /**
   * What resolve() would answer, without waiting, for a resolver that
   * answers from memory; absent when it may need I/O.  The installer
   * answers a burst of misses through it with no promise per request.
   */
  resolveNow?(vni: number, mac: string): Resolution;
  /**
   * resolveNow() by the MAC's two words (its first four bytes; its last two
   * in the high half), answering only where the MAC lives: how a lone miss
   * is answered before anything of its request is decoded.
   */
  resolveTarget?(vni: number, macHi: number, macLo: number): MappingTarget | null | undefined;
  /** Which mapping (so which MAC) has (vni, ip)? ip in canonical form. */
  abstract resolveIp(vni: number, ip: string): Promise<Resolution>;
  /** The mapping as last seen (no I/O). */
  abstract cached(vni: number, mac: string): Mapping | undefined;
  abstract cachedIp(vni: number, ip: string): Mapping | undefined;
  /** Every mapping of a VNI as last seen (no I/O): what push mode installs ahead of traffic. */
  abstract mappingsOf(vni: number): Mapping[];
  abstract close(): Promise<void>;
}
