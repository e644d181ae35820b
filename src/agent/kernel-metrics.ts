// SPDX-License-Identifier: BSD-2-Clause
/**
 * The kernel's own counters on the agent's /metrics, read when Prometheus
 * scrapes (prom-client collect()), so an operator's Prometheus sees every
 * switch's and vcc's data-path and miss counters, the upcall queue and the
 * system's objects without running vpcctl.  Names follow the ABI's counter
 * names (VPC_SWSTAT_DROP_RUNT -> vpc_switch_drop_runt_total): a counter the
 * kernel adds appears here by itself.  docs/agent.md lists them.
 */
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  listObjects, Switch, SWITCH_COUNTERS, systemStats, upcallStats, Vcc, VCC_COUNTERS, VpcError, VpcNotFoundError,
  VpcRemovedError, type SwitchStats, type SystemStats, type UpcallStats, type VccStats,
} from '../vpc/index.ts';

/** rxFrames -> rx_frames */
const snake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

interface Snapshot {
  ok: boolean;
  switches: Array<{ id: string; vni: string; stats: SwitchStats }>;
  vccs: Array<{ id: string; stats: VccStats }>;
  system: SystemStats | undefined;
  upcalls: UpcallStats | undefined;
}

export class KernelMetrics {
  #memo: Snapshot | undefined;
  #failing = false;

  constructor(private readonly registry: Registry, private readonly log: Logger) {
    const snap = () => this.#snapshot();
    new Gauge({
      name: 'vpc_kernel_up', help: '1 when the last scrape could read the vpc kernel', registers: [registry],
      collect() { this.set(snap().ok ? 1 : 0); },
    });
    const gauge = (name: string, help: string, value: (s: Snapshot) => number | undefined) => new Gauge({
      name, help, registers: [registry],
      collect() {
        this.reset();
        const v = value(snap());
        if (v !== undefined) this.set(v);
      },
    });
    const counter = (name: string, help: string, value: (s: Snapshot) => number | undefined) => new Counter({
      name, help, registers: [registry],
      collect() {
        this.reset();
        const v = value(snap());
        if (v !== undefined) this.inc(v);
      },
    });
    new Gauge({
      name: 'vpc_kernel_objects', help: 'Objects the kernel holds, by type', labelNames: ['type'] as const, registers: [registry],
      collect() {
        this.reset();
        for (const [type, n] of Object.entries(snap().system?.byType ?? {})) this.set({ type }, n ?? 0);
      },
    });
    gauge('vpc_kernel_handles', 'Open handles, all processes', (s) => s.system?.handles);
    gauge('vpc_kernel_memory_bytes', 'Bytes the core has allocated', (s) => s.system?.memBytes);
    gauge('vpc_kernel_allocations', 'Allocations the core has outstanding', (s) => s.system?.memAllocs);
    counter('vpc_kernel_connections_refused_total', 'Host kernel: connections refused at its descriptor limit', (s) => s.system?.connRefused);
    gauge('vpc_upcall_pending', 'Upcall requests not yet answered', (s) => s.upcalls?.pending);
    gauge('vpc_upcall_undelivered', 'Upcall requests not yet read', (s) => s.upcalls?.undelivered);
    gauge('vpc_upcall_held_frames', 'Frames held for pending requests', (s) => s.upcalls?.held);
    gauge('vpc_upcall_readers', 'Upcall readers attached (0 or 1)', (s) => s.upcalls?.readers);
    counter('vpc_upcall_delivered_total', 'Upcall requests handed to readers', (s) => s.upcalls?.delivered);
    counter('vpc_upcall_requeued_total', 'Upcall requests handed back when a reader went away', (s) => s.upcalls?.requeued);
    this.#counterFamilies();
  }

  /**
   * One read of the kernel per scrape: the first family collected takes it,
   * the others of the same scrape (prom-client collects them one after the
   * other, synchronously) reuse it; it is forgotten at the next turn of the
   * event loop.
   */
  #snapshot(): Snapshot {
    if (!this.#memo) {
      this.#memo = this.#read();
      setImmediate(() => { this.#memo = undefined; });
    }
    return this.#memo;
  }

  /** A family per counter vpc.h numbers, its comment there as the help text. */
  #counterFamilies(): void {
    const snap = () => this.#snapshot();
    const add = (kind: 'switch' | 'vcc', key: string, help: string) => {
      const read = (stats: SwitchStats | VccStats): number => (stats as unknown as Record<string, number>)[key] ?? 0;
      new Counter({
        name: `vpc_${kind}_${snake(key)}_total`,
        help, labelNames: kind === 'switch' ? ['switch', 'vni'] : ['vcc'], registers: [this.registry],
        collect() {
          this.reset();
          if (kind === 'switch') for (const sw of snap().switches) this.inc({ switch: sw.id, vni: sw.vni }, read(sw.stats));
          else for (const v of snap().vccs) this.inc({ vcc: v.id }, read(v.stats));
        },
      });
    };
    for (const [k, help] of Object.entries(SWITCH_COUNTERS)) add('switch', k, `Switch: ${help}`);
    for (const [k, help] of Object.entries(VCC_COUNTERS)) add('vcc', k, `vcc: ${help}`);
  }

  #read(): Snapshot {
    const snap: Snapshot = { ok: false, switches: [], vccs: [], system: undefined, upcalls: undefined };
    try {
      snap.system = systemStats();
      snap.upcalls = upcallStats();
      for (const o of listObjects()) {
        if (o.type !== 'switch' && o.type !== 'vcc') continue;
        try {
          if (o.type === 'switch') {
            const sw = Switch.open(o.id);
            try {
              snap.switches.push({ id: o.id, vni: String(sw.vni() ?? ''), stats: sw.stats() });
            } finally {
              sw.close();
            }
          } else {
            const vcc = Vcc.open(o.id);
            try {
              snap.vccs.push({ id: o.id, stats: vcc.stats() });
            } finally {
              vcc.close();
            }
          }
        } catch (e) {
          // Destroyed between the listing and the open: not there any more.
          if (!(e instanceof VpcNotFoundError) && !(e instanceof VpcRemovedError)) throw e;
        }
      }
      snap.ok = true;
      this.#failing = false;
    } catch (e) {
      if (!(e instanceof VpcError)) throw e;
      // Said once, not at every scrape; vpc_kernel_up says it all along.
      if (!this.#failing) this.log.warn({ err: e.message }, 'metrics: cannot read the vpc kernel');
      this.#failing = true;
    }
    return snap;
  }
}
