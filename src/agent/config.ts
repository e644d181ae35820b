// SPDX-License-Identifier: BSD-2-Clause
/**
 * vpc-agent's settings: defaults, a JSON config file, command-line flags (in
 * that order of precedence, last wins).
 */
import { readFileSync } from 'node:fs';

export interface AgentConfig {
  resolver: 'file' | 'etcd';
  mappings: string;
  etcdEndpoints: string[];
  etcdPrefix: string;
  /** host:port for /metrics, or "off". */
  metricsAddr: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** Host kernel: vpc-hostd's socket (FreeBSD: unused, the module is the kernel). */
  socket: string | undefined;
  upcallSocket: string | undefined;
  ttlMs: number;
  negativeTtlMs: number;
  concurrency: number;
  /** Install every mapping of the node's VNIs ahead of traffic (push mode). */
  push: boolean;
  /** Push mode: pushed entries per switch at most. */
  pushCap: number;
  /** Host kernel: answer known MACs from libvpc's relay thread, not after waking JavaScript. */
  relay: boolean;
}

export const defaults: AgentConfig = {
  resolver: 'file',
  mappings: '/etc/vpc/mappings.json',
  etcdEndpoints: ['http://127.0.0.1:2379'],
  etcdPrefix: '/vpc/mappings',
  metricsAddr: '127.0.0.1:9477',
  logLevel: 'info',
  socket: undefined,
  upcallSocket: undefined,
  ttlMs: 300_000,
  negativeTtlMs: 1_000,
  concurrency: 64,
  // On: a frame to a VM the directory knows is forwarded as any switched
  // frame, not held for an upcall (measured: first frame 207-226 us p50
  // pushed, 2.5-3.4 ms through a miss).  --no-push for misses only.
  push: true,
  pushCap: 65_536,
  // On: a lone miss for a known MAC is answered in 190-210 us p50 rather
  // than 330-480 (bench/peer figure a, docs/agent.md).  --no-relay: every
  // request is answered by JavaScript.
  relay: true,
};

export class ConfigError extends Error {}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

/** Check a whole configuration; names the setting that is wrong. */
export function checkConfig(c: AgentConfig): AgentConfig {
  const bad = (k: string, why: string): never => { throw new ConfigError(`${k}: ${why}`); };
  if (c.resolver !== 'file' && c.resolver !== 'etcd') bad('resolver', `expected file or etcd, got '${String(c.resolver)}'`);
  if (c.resolver === 'file' && (typeof c.mappings !== 'string' || c.mappings === '')) bad('mappings', 'expected the path of the mapping file');
  if (!Array.isArray(c.etcdEndpoints) || c.etcdEndpoints.length === 0 || c.etcdEndpoints.some((e) => !/^https?:\/\/[^/]+$/.test(e))) {
    bad('etcd-endpoints', `expected URLs like http://127.0.0.1:2379, got ${JSON.stringify(c.etcdEndpoints)}`);
  }
  if (typeof c.etcdPrefix !== 'string' || !c.etcdPrefix.startsWith('/')) bad('etcd-prefix', `expected a key prefix starting with /, got '${String(c.etcdPrefix)}'`);
  if (c.metricsAddr !== 'off' && !/^(\[[0-9a-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/i.test(c.metricsAddr)) bad('metrics-addr', `expected host:port or off, got '${c.metricsAddr}'`);
  if (!LEVELS.includes(c.logLevel)) bad('log-level', `expected one of ${LEVELS.join(', ')}, got '${String(c.logLevel)}'`);
  for (const [k, v, min] of [['ttl', c.ttlMs, 0], ['negative-ttl', c.negativeTtlMs, 1], ['concurrency', c.concurrency, 1]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) bad(k, `expected a whole number >= ${min}, got ${JSON.stringify(v)}`);
  }
  if (typeof c.push !== 'boolean') bad('push', `expected true or false, got ${JSON.stringify(c.push)}`);
  if (typeof c.relay !== 'boolean') bad('relay', `expected true or false, got ${JSON.stringify(c.relay)}`);
  if (typeof c.pushCap !== 'number' || !Number.isInteger(c.pushCap) || c.pushCap < 0 || c.pushCap > 4_194_304) {
    bad('push-cap', `expected a whole number from 0 to 4194304, got ${JSON.stringify(c.pushCap)}`);
  }
  if (c.ttlMs > 86_400_000 || c.negativeTtlMs > 86_400_000) bad('ttl', 'at most one day (86400000 ms)');
  return c;
}

/** Settings from a JSON file: the same names as the flags, camelCase. */
export function readConfigFile(path: string): Partial<AgentConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`config ${path}: ${(e as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`config ${path}: expected a JSON object`);
  for (const k of Object.keys(raw)) {
    if (!(k in defaults)) throw new ConfigError(`config ${path}: unknown setting '${k}' (known: ${Object.keys(defaults).join(', ')})`);
  }
  return raw as Partial<AgentConfig>;
}
