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
  listObjects, Switch, systemStats, upcallStats, Vcc, VpcError, VpcNotFoundError, VpcRemovedError,
  type SwitchStats, type SystemStats, type UpcallStats, type VccStats,
} from '../vpc/index.ts';

/** rxFrames -> rx_frames */
const snake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** What each counter means (vpc.h); one the kernel adds later gets a generic line. */
const SWITCH_HELP: Record<string, string> = {
  rxFrames: 'Frames in from local ports',
  txLocal: 'Frames delivered to local ports',
  txRemote: 'Frames encapsulated to the underlay',
  rxRemote: 'Frames decapsulated from the underlay',
  flooded: 'Broadcast/multicast frames flooded to local ports',
  dropRunt: 'Dropped: shorter than an Ethernet header',
  dropTagged: 'Dropped: 802.1Q-tagged frame from a VM',
  dropSpoof: 'Dropped: source MAC not the vmnic\'s',
  dropNoRouter: 'Dropped: off-subnet with no router plugged in',
  dropNoUplink: 'Dropped: remote with no uplink or vcc',
  dropNegative: 'Dropped: matched a negative entry',
  dropUnknown: 'Dropped: from the underlay to no local MAC',
  dropTx: 'Dropped: the OS refused to send',
  misses: 'Frames that missed the forwarding table',
  upcalls: 'Upcall requests raised',
  dups: 'Misses folded into a pending request',
  held: 'Frames put on a hold queue',
  holdDrops: 'Misses dropped: hold queue full',
  lost: 'Misses dropped: no room for a request',
  answers: 'Upcall answers applied (found or not)',
  negative: 'Upcall answers "not found"',
  timeouts: 'Upcall requests that expired unanswered',
  stale: 'Upcall answers refused: stale generation',
  released: 'Held frames an answer released',
  heldDropped: 'Held frames dropped: negative answer, timeout, switch gone',
  dropHairpin: 'Dropped: destination is the ingress port',
  dropRemiss: 'Released frames whose entry was gone again',
};
const VCC_HELP: Record<string, string> = {
  rx: 'VXLAN packets received',
  tx: 'VXLAN packets sent',
  rxBad: 'Received packets dropped: short, no I flag, inner runt',
  rxNoVni: 'Received packets dropped: no switch with that VNI here',
  txErr: 'Packets the OS refused to send (oversize, no route)',
  l2Rx: 'Raw frames in (VNI 0)',
  l2Tx: 'Raw frames out (VNI 0)',
  l2NoSw: 'Raw frames for no VNI 0 switch',
  rxSockDrops: 'Datagrams the OS dropped before the kernel saw them: socket buffer full',
};

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
  readonly #families = new Map<string, Counter<string>>();

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
    this.#ensureFamilies({ ok: false, switches: [], vccs: [], system: undefined, upcalls: undefined });
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
      this.#ensureFamilies(this.#memo);
      setImmediate(() => { this.#memo = undefined; });
    }
    return this.#memo;
  }

  /** A family per counter name the kernel reports (registered once). */
  #ensureFamilies(s: Snapshot): void {
    const snap = () => this.#snapshot();
    const add = (kind: 'switch' | 'vcc', key: string, help: string) => {
      const name = `vpc_${kind}_${snake(key)}_total`;
      if (this.#families.has(name)) return;
      this.#families.set(name, new Counter({
        name, help, labelNames: kind === 'switch' ? ['switch', 'vni'] : ['vcc'], registers: [this.registry],
        collect() {
          this.reset();
          if (kind === 'switch') for (const sw of snap().switches) this.inc({ switch: sw.id, vni: sw.vni }, sw.stats[key] ?? 0);
          else for (const v of snap().vccs) this.inc({ vcc: v.id }, v.stats[key] ?? 0);
        },
      }));
    };
    const keys = (o: Record<string, number> | undefined) => Object.keys(o ?? {});
    for (const k of new Set([...Object.keys(SWITCH_HELP), ...keys(s.switches[0]?.stats)])) {
      add('switch', k, SWITCH_HELP[k] ?? `Switch counter ${k}`);
    }
    for (const k of new Set([...Object.keys(VCC_HELP), ...keys(s.vccs[0]?.stats)])) add('vcc', k, VCC_HELP[k] ?? `vcc counter ${k}`);
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
