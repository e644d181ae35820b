// SPDX-License-Identifier: BSD-2-Clause
/**
 * vpc-agent: the upcall agent service (see docs/agent.md).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { Agent, AgentBusyError } from '../agent/agent.ts';
import { checkConfig, ConfigError, defaults, readConfigFile, type AgentConfig } from '../agent/config.ts';

const argv = yargs(hideBin(process.argv))
  .scriptName('vpc-agent')
  .usage('$0 [options]\n\nAnswers the vpc switches\' "where does this MAC live?" upcalls from the mapping\ndirectory and installs forwarding entries with a TTL.')
  .option('config', { type: 'string', describe: 'a JSON file with any of the settings below (camelCase names, e.g. {"resolver": "etcd"}); flags win' })
  .option('resolver', { choices: ['file', 'etcd'] as const, describe: `where mappings come from (default ${defaults.resolver})` })
  .option('mappings', { type: 'string', describe: `file resolver: the JSON mapping file, reloaded on change and SIGHUP (default ${defaults.mappings})` })
  .option('etcd-endpoints', { type: 'string', describe: `etcd resolver: comma-separated URLs (default ${defaults.etcdEndpoints.join(',')})` })
  .option('etcd-prefix', { type: 'string', describe: `etcd resolver: key prefix, keys are <prefix>/<vni>/<mac> (default ${defaults.etcdPrefix})` })
  .option('metrics-addr', { type: 'string', describe: `host:port for Prometheus /metrics, or off (default ${defaults.metricsAddr})` })
  .option('log-level', { choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const, describe: `pino log level (default ${defaults.logLevel})` })
  .option('socket', { type: 'string', describe: 'host kernel: vpc-hostd\'s socket (default $VPC_HOSTD_SOCKET or /run/vpc/hostd.sock); FreeBSD: unused' })
  .option('upcall-socket', { type: 'string', describe: 'host kernel: the upcall socket (default upcall.sock beside --socket)' })
  .option('ttl', { type: 'number', describe: `ms an installed entry lives unless refreshed in use, 0 for static (default ${defaults.ttlMs})` })
  .option('negative-ttl', { type: 'number', describe: `ms a "not found" answer is cached (default ${defaults.negativeTtlMs})` })
  .option('concurrency', { type: 'number', describe: `resolutions in flight at most (default ${defaults.concurrency})` })
  .option('push', { type: 'boolean', describe: `install every mapping of the VNIs with a switch here ahead of traffic, not only on a miss; --no-push: on a miss only (default ${defaults.push ? 'on' : 'off'})` })
  .option('relay', { type: 'boolean', describe: `host kernel: a thread of libvpc answers the MACs the directory knows as their misses come, JavaScript the rest; --no-relay: JavaScript answers all (default ${defaults.relay ? 'on' : 'off'})` })
  .option('push-cap', { type: 'number', describe: `push mode: entries pushed per switch at most, the most recently used kept (default ${defaults.pushCap})` })
  .example('$0 --resolver file --mappings /etc/vpc/mappings.json', 'one compute node, mappings in a file')
  .example('$0 --resolver etcd --etcd-endpoints http://10.0.0.5:2379', 'many compute nodes sharing etcd')
  .strict()
  .help()
  .fail((msg, err, y) => {
    process.stderr.write(`vpc-agent: ${msg ?? err?.message}\n\n${y.help() as unknown as string}\n`);
    process.exit(2);
  })
  .parseSync();

function fail(msg: string, code = 2): never {
  process.stderr.write(`vpc-agent: ${msg}\n`);
  process.exit(code);
}

let config: AgentConfig;
try {
  const file = argv.config ? readConfigFile(argv.config as string) : {};
  const flags: Partial<AgentConfig> = {};
  if (argv.resolver) flags.resolver = argv.resolver;
  if (argv.mappings) flags.mappings = argv.mappings;
  if (argv['etcd-endpoints']) flags.etcdEndpoints = argv['etcd-endpoints'].split(',').map((s) => s.trim());
  if (argv['etcd-prefix']) flags.etcdPrefix = argv['etcd-prefix'];
  if (argv['metrics-addr']) flags.metricsAddr = argv['metrics-addr'];
  if (argv['log-level']) flags.logLevel = argv['log-level'];
  if (argv.socket) flags.socket = argv.socket;
  if (argv['upcall-socket']) flags.upcallSocket = argv['upcall-socket'];
  if (argv.ttl !== undefined) flags.ttlMs = argv.ttl;
  if (argv['negative-ttl'] !== undefined) flags.negativeTtlMs = argv['negative-ttl'];
  if (argv.concurrency !== undefined) flags.concurrency = argv.concurrency;
  if (argv.push !== undefined) flags.push = argv.push;
  if (argv['push-cap'] !== undefined) flags.pushCap = argv['push-cap'];
  if (argv.relay !== undefined) flags.relay = argv.relay;
  config = checkConfig({ ...defaults, ...file, ...flags });
} catch (e) {
  if (e instanceof ConfigError) fail(e.message);
  throw e;
}
if (config.socket) process.env.VPC_HOSTD_SOCKET = config.socket;
if (config.upcallSocket) process.env.VPC_UPCALL_SOCKET = config.upcallSocket;

const agent = new Agent(config);
let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    agent.stop().then(() => process.exit(0), (e: Error) => fail(`stop: ${e.message}`, 1));
  });
}
agent.start().catch((e: Error) => {
  agent.log.fatal({ err: e.message }, 'cannot start');
  fail(e instanceof AgentBusyError ? e.message : `cannot start: ${e.message}`, 1);
});
