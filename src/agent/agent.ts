// SPDX-License-Identifier: BSD-2-Clause
/**
 * vpc-agent: attach as the kernel's upcall reader, answer from the mapping
 * directory, keep installed entries true, report health.
 */
import { pino, type Logger } from 'pino';
import { AnswerTable, reportAgentState, UpcallChannelError, UpcallStream, VpcUnavailableError, type AgentState } from '../vpc/index.ts';
import type { AgentConfig } from './config.ts';
import { EtcdResolver } from './etcd-resolver.ts';
import { FileResolver } from './file-resolver.ts';
import { Installer } from './installer.ts';
import { KernelMetrics } from './kernel-metrics.ts';
import { Metrics } from './metrics.ts';
import { Pusher } from './pusher.ts';
import { AgentRelay } from './relay.ts';
import type { Resolver } from './resolver.ts';

export class AgentBusyError extends Error {}

export class Agent {
  readonly log: Logger;
  readonly metrics = new Metrics();
  readonly resolver: Resolver;
  readonly installer: Installer;
  /** Push mode: entries installed ahead of traffic (undefined with --no-push). */
  readonly pusher: Pusher | undefined;
  /** The upcall relay (config.relay, and a kernel that has one): undefined without. */
  readonly relay: AgentRelay | undefined;
  metricsAddr: string | undefined;
  #stream: UpcallStream | undefined;
  #stopping = false;
  #done: Promise<void> | undefined;

  constructor(readonly config: AgentConfig, log?: Logger) {
    this.log = log ?? pino({ level: config.logLevel, base: { svc: 'vpc-agent' } });
    this.resolver = config.resolver === 'etcd'
      ? new EtcdResolver({ endpoints: config.etcdEndpoints, prefix: config.etcdPrefix }, this.log)
      : new FileResolver(config.mappings, this.log);
    new KernelMetrics(this.metrics.registry, this.log);
    this.relay = config.relay && this.resolver.resolveTarget !== undefined && AnswerTable.available() ? new AgentRelay(this.log) : undefined;
    this.installer = new Installer(this.resolver, this.log, this.metrics,
      {
        ttlMs: config.ttlMs, negativeTtlMs: config.negativeTtlMs, concurrency: config.concurrency,
        // A switch first met through a miss is pushed to at once, not at the next resync.
        onSwitch: (id) => { if (this.pusher && !this.pusher.knows(id)) void this.pusher.sync('new switch'); },
        pushed: (id, mac) => this.pusher?.owns(id, mac) ?? false,
        ...(this.relay ? { relay: this.relay } : {}),
      });
    this.pusher = config.push ? new Pusher(this.resolver, this.log, this.metrics, { ttlMs: config.ttlMs, cap: config.pushCap }) : undefined;
    this.resolver.on('degraded', (e) => {
      this.metrics.degraded.set(1);
      this.metrics.resolverErrors.inc();
      this.log.error({ event: 'degraded', directory: this.resolver.where, err: e.message }, 'directory unreachable: degraded');
      this.#tellKernel('degraded');
    });
    this.resolver.on('recovered', () => {
      this.metrics.degraded.set(0);
      this.log.info({ event: 'recovered', directory: this.resolver.where }, 'directory reachable again');
      this.#tellKernel('recovered');
    });
  }

  /** The kernel's lifecycle event (devd on FreeBSD); failing to post it is logged, not fatal. */
  #tellKernel(state: AgentState): void {
    try {
      reportAgentState(state, `${this.resolver.kind}:${this.resolver.where}`);
    } catch (e) {
      this.log.warn({ event: 'lifecycle-event-failed', state, err: (e as Error).message }, 'could not post the lifecycle event');
    }
  }

  async start(): Promise<void> {
    if (this.config.metricsAddr !== 'off') this.metricsAddr = await this.metrics.listen(this.config.metricsAddr);
    await this.resolver.start();
    if (this.relay) this.resolver.mirrorTo(this.relay);
    this.#stream = await this.#attach();
    // Answer upcalls from now on, while the first sync installs (it yields
    // between batches); say so in the log once it is done, so a frame sent
    // after that line meets a pushed entry.
    this.#done = this.#serve();
    await this.pusher?.sync('start');
    this.log.info({ resolver: this.resolver.kind, directory: this.resolver.where, push: this.config.push, relay: this.relay !== undefined, metrics: this.metricsAddr ?? 'off' }, 'attached as the upcall reader');
  }

  /** Attach as the reader; wait for the kernel if it is not there yet. */
  async #attach(): Promise<UpcallStream> {
    for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
      try {
        return await (this.relay ? UpcallStream.openRelayed(this.config.ttlMs) : UpcallStream.open());
      } catch (e) {
        if (e instanceof UpcallChannelError && e.code === 'EBUSY') {
          throw new AgentBusyError('another upcall reader is attached (is another vpc-agent running?)');
        }
        if (this.#stopping) throw e;
        this.log.warn({ err: (e as Error).message, retryMs: delay }, 'kernel not reachable yet');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async #serve(): Promise<void> {
    while (!this.#stopping) {
      try {
        await this.installer.run(this.#stream!);
      } catch (e) {
        if (!(e instanceof VpcUnavailableError)) throw e;
      }
      if (this.#stopping) break;
      // vpc-hostd restarted, or the module was reloaded: what we held of
      // the old kernel (switch handles) is gone with it.
      this.log.warn('the kernel closed the upcall channel; reattaching');
      this.installer.forgetSwitches();
      this.pusher?.forgetSwitches();
      this.#stream = await this.#attach();
      this.log.info('attached as the upcall reader again');
      void this.pusher?.sync('reattached');
    }
  }

  /** SIGTERM: finish in-flight answers, let go of the channel, stop. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.pusher?.stop();
    await this.installer.stop();
    this.#stream?.close();     // what is still unanswered goes to the next reader
    await this.#done?.catch(() => {});
    await this.resolver.close();
    await this.metrics.close();
    this.log.info('stopped');
  }
}
