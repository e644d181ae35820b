// SPDX-License-Identifier: BSD-2-Clause
/**
 * The agent's Prometheus metrics (prom-client), served on a local address.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly upcalls = new Counter({ name: 'vpc_agent_upcalls_total', help: 'Upcall requests read from the kernel', registers: [this.registry] });
  readonly answers = new Counter({ name: 'vpc_agent_answers_total', help: 'Answers the kernel applied', labelNames: ['result'] as const, registers: [this.registry] });
  readonly l3Upcalls = new Counter({ name: 'vpc_agent_l3_upcalls_total', help: 'L3 upcall requests read (which MAC has this IP?), also counted in vpc_agent_upcalls_total', registers: [this.registry] });
  readonly l3Answers = new Counter({ name: 'vpc_agent_l3_answers_total', help: 'Answers to L3 upcalls the kernel applied, also counted in vpc_agent_answers_total', labelNames: ['result'] as const, registers: [this.registry] });
  readonly relayed = new Counter({ name: 'vpc_agent_relay_answers_total', help: 'Answers the upcall relay gave before the agent read their requests, also counted in vpc_agent_answers_total and the rest', registers: [this.registry] });
  readonly refused = new Counter({ name: 'vpc_agent_answers_refused_total', help: 'Answers the kernel refused (stale generation, request gone)', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly unresolved = new Counter({ name: 'vpc_agent_unresolved_total', help: 'Requests left unanswered: directory unreachable and nothing cached', registers: [this.registry] });
  readonly resolverErrors = new Counter({ name: 'vpc_agent_resolver_errors_total', help: 'Directory failures seen by the resolver', registers: [this.registry] });
  readonly installed = new Counter({ name: 'vpc_agent_entries_installed_total', help: 'Forwarding entries installed from answers', registers: [this.registry] });
  readonly refreshed = new Counter({ name: 'vpc_agent_entries_refreshed_total', help: 'Entries in use refreshed before they expired', registers: [this.registry] });
  readonly pushed = new Counter({ name: 'vpc_agent_entries_pushed_total', help: 'Entries updated or dropped because their mapping moved or went', labelNames: ['action'] as const, registers: [this.registry] });
  readonly nbrPushed = new Counter({ name: 'vpc_agent_neighbours_pushed_total', help: 'Neighbour entries updated or dropped because their address moved or went', labelNames: ['action'] as const, registers: [this.registry] });
  readonly pushInstalled = new Counter({ name: 'vpc_agent_push_installed_total', help: 'Entries installed or renewed ahead of traffic (push mode), by table', labelNames: ['table'] as const, registers: [this.registry] });
  readonly pushEntries = new Gauge({ name: 'vpc_agent_push_entries', help: 'Forwarding entries pushed to the switches at the last sync (push mode)', registers: [this.registry] });
  readonly pushOverCap = new Counter({ name: 'vpc_agent_push_over_cap_total', help: 'Syncs that found a VNI with more mappings than the per-switch cap (the rest wait for their miss)', registers: [this.registry] });
  readonly degraded = new Gauge({ name: 'vpc_agent_degraded', help: '1 while the directory is unreachable', registers: [this.registry] });
  readonly inflight = new Gauge({ name: 'vpc_agent_inflight', help: 'Resolutions in flight', registers: [this.registry] });
  readonly latency = new Histogram({
    name: 'vpc_agent_miss_to_install_seconds',
    help: 'From the first frame that missed to its entry being installed',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  #server: Server | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'vpc_agent_' });
  }

  /** Serve /metrics on host:port ("127.0.0.1:9477"); resolves with the bound address. */
  listen(addr: string): Promise<string> {
    const m = /^(.*):(\d+)$/.exec(addr);
    if (!m) return Promise.reject(new Error(`metrics address: expected host:port, got '${addr}'`));
    const host = (m[1] as string).replace(/^\[(.*)\]$/, '$1');
    this.#server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end('try /metrics\n');
        return;
      }
      this.registry.metrics().then((body) => {
        res.writeHead(200, { 'content-type': this.registry.contentType }).end(body);
      }, (e: Error) => res.writeHead(500).end(e.message));
    });
    return new Promise((resolve, reject) => {
      this.#server!.once('error', reject);
      this.#server!.listen(Number(m[2]), host, () => {
        const a = this.#server!.address();
        resolve(typeof a === 'object' && a ? `${a.address}:${a.port}` : addr);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
