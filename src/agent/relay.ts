// SPDX-License-Identifier: BSD-2-Clause
/**
 * The agent's side of libvpc's upcall relay (kmod/os/host/libvpc_relay.c):
 * a thread that answers a miss for a MAC the directory knows as soon as it
 * is read, without waking JavaScript (the wake-up was most of what a lone
 * miss cost: docs/agent.md).  Here: the relay's table kept equal to the
 * resolver's mappings (a TargetMirror, updated in the same synchronous step
 * as each change), and the relay paused while the installer resolves
 * anything itself (Installer's relay option), or for good once its table
 * could not be updated: then every request is answered here, as without
 * the relay.
 */
import type { Logger } from 'pino';
import type { MappingTarget } from '../directory/index.ts';
import { AnswerTable, AnswerTableChanges, type AnswerRecords } from '../vpc/index.ts';
import type { TargetMirror } from './resolver.ts';

export class AgentRelay implements TargetMirror {
  #paused = false;
  #failed = false;

  constructor(private readonly log: Logger) {}

  replace(records: AnswerRecords): void {
    this.#apply(() => AnswerTable.load(records));
  }

  set(vni: number, macHi: number, macLo: number, t: MappingTarget | undefined): void {
    this.#apply(() => {
      const c = new AnswerTableChanges(1);
      if (t) c.put(vni, macHi, macLo, t.vtep, t.port, Number(t.revision));
      else c.delete(vni, macHi, macLo);
      AnswerTable.apply(c);
    });
  }

  /** The installer's pause (it resolves something itself, or stops). */
  pause(paused: boolean): void {
    if (paused === this.#paused) return;
    this.#paused = paused;
    AnswerTable.pause(this.#paused || this.#failed);
  }

  #apply(update: () => void): void {
    if (this.#failed) return;
    try {
      update();
    } catch (e) {
      // A table that missed a change must not answer from it.
      this.#failed = true;
      AnswerTable.pause(true);
      this.log.error({ err: (e as Error).message }, 'upcall relay table not updated: every upcall is answered by the agent from now on');
    }
  }
}
