// SPDX-License-Identifier: BSD-2-Clause
/**
 * vpcctl fw ...: rule sets (security groups), their rules in the grammar of
 * src/vpc/firewall.ts or as JSON, attaching them to vmnic ports, flows,
 * timeouts and limits.
 */
import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import {
  fwConfig, fwCreateSet, fwDestroySet, fwExport, fwGetSet, fwImport, fwListSets, fwReplaceRules, fwRules, fwSetConfig,
  fwSetOptions, parseRule, Switch, withTxn, type FwConfig, type FwRule, type FwSetJson,
} from '../../vpc/index.ts';
import { fwSetId, id, UsageError } from '../args.ts';
import { isJson, showDone, showList, showOne } from '../output.ts';
import { run, using } from '../run.ts';

const RULE_COLUMNS = ['text', 'hits'];
const SET_COLUMNS = ['id', 'keepEstablished', 'rules', 'ports', 'generation'];
const FLOW_COLUMNS = ['dir', 'proto', 'state', 'localIp', 'localPort', 'remoteIp', 'remotePort', 'expireMs', 'pktsOut', 'pktsIn'];

const setId = fwSetId;

function seconds(name: string) {
  return (v: unknown): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 7 * 86400) throw new UsageError(`${name}: expected seconds 0-604800 (0: the default), got '${String(v)}'`);
    return n;
  };
}

function flows(name: string) {
  return (v: unknown): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 4 * 1024 * 1024) throw new UsageError(`${name}: expected 0-4194304 flows (0: the default), got '${String(v)}'`);
    return n;
  };
}

/** Rules from the command line (each one in the grammar) or a JSON file. */
function rulesFrom(texts: string[], file: string | undefined): Array<FwRule | string> {
  if (file !== undefined && texts.length > 0) throw new UsageError('give rules on the command line or --file, not both');
  if (file === undefined) {
    for (const t of texts) parseRule(t);        // a bad rule is a usage error before anything changes
    return texts;
  }
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8'));
  } catch (e) {
    throw new UsageError(`--file: ${(e as Error).message}`);
  }
  const rules = Array.isArray(j) ? j : (j as { rules?: unknown }).rules;
  if (!Array.isArray(rules)) throw new UsageError('--file: expected a JSON array of rules, or {"rules": [...]}');
  return rules as Array<FwRule | string>;
}

const setArg = (b: Argv) => b.positional('id', { type: 'string', coerce: setId('id'), describe: 'the rule set id (1-4294967295)' });
const portArgs = (b: Argv) => b
  .positional('switch', { type: 'string', coerce: id('switch'), describe: 'the switch' })
  .positional('port', { type: 'string', coerce: id('port'), describe: 'the vmnic port' });

const CONFIG_OPTS: Array<[string, keyof FwConfig, 's' | 'n', string]> = [
  ['tcp-syn', 'tcpSynSeconds', 's', 'TCP flows not yet established (incipient), seconds'],
  ['tcp-established', 'tcpEstablishedSeconds', 's', 'established TCP, idle, seconds'],
  ['tcp-fin', 'tcpFinSeconds', 's', 'TCP after one side closed, seconds'],
  ['tcp-time-wait', 'tcpTimeWaitSeconds', 's', 'TCP after both closed, seconds'],
  ['tcp-closed', 'tcpClosedSeconds', 's', 'TCP after a RST, seconds'],
  ['udp', 'udpSeconds', 's', 'UDP, idle, seconds'],
  ['icmp', 'icmpSeconds', 's', 'ICMP echo, idle, seconds'],
  ['other', 'otherSeconds', 's', 'other protocols, idle, seconds'],
  ['max-flows-port', 'maxFlowsPerPort', 'n', 'flows per port'],
  ['max-flows', 'maxFlows', 'n', 'flows in all'],
];

export function fwCommand(y: Argv): Argv {
  return y
    .command('create <id>', 'create a rule set (no rules yet: inbound denied, outbound allowed)', (b) => setArg(b)
      .option('keep-established', { type: 'boolean', describe: 'rule changes spare established flows' })
      .example('$0 fw create 10', ''),
    run((a: { id: number; keepEstablished?: boolean }) => {
      fwCreateSet(a.id, { keepEstablished: a.keepEstablished ?? false });
      showDone({ id: a.id });
    }))
    .command('destroy <id>', 'destroy a rule set (EBUSY while a port uses it)', (b) => setArg(b),
      run((a: { id: number }) => {
        fwDestroySet(a.id);
        showDone({ id: a.id });
      }))
    .command('list', 'every rule set', (b) => b,
      run(() => showList(fwListSets().map((s) => ({ ...s })), SET_COLUMNS)))
    .command('get <id>', 'a rule set and its rules in evaluation order, with their hit counters', (b) => setArg(b),
      run((a: { id: number }) => {
        const s = fwGetSet(a.id);
        const rules = fwRules(a.id).map((r) => ({ text: r.text, hits: r.hits }));
        if (isJson()) showOne({ ...s, rules });
        else {
          showOne({ ...s });
          showList(rules, RULE_COLUMNS);
        }
      }))
    .command('rules <id> [rules..]', 'replace the set\'s rules at once (none: no rules); flows are judged again on their next packet', (b) => setArg(b)
      .positional('rules', { type: 'string', array: true, describe: 'rules, one per argument: in|out allow|deny [tcp|udp|icmp|icmp6|proto N] [from|to CIDR|switch UUID|vni N] [port P,P-Q] [type T [code C]] [priority N]' })
      .option('file', { type: 'string', describe: 'a JSON file (- for stdin): an array of rules (objects or strings), or fw export\'s object' })
      .example('$0 fw rules 10 "in allow tcp from 10.0.0.0/8 port 22,443 priority 100" "in allow icmp type 8"', ''),
    run((a: { id: number; rules?: string[]; file?: string }) => {
      const rules = rulesFrom(a.rules ?? [], a.file);
      fwReplaceRules(a.id, rules);
      showDone({ id: a.id, rules: rules.length });
    }))
    .command('show <id>', 'the set\'s rules in evaluation order (text and hits)', (b) => setArg(b),
      run((a: { id: number }) => showList(fwRules(a.id).map((r) => ({ ...r })), RULE_COLUMNS)))
    .command('set <id>', 'a rule set\'s options', (b) => setArg(b)
      .option('keep-established', { type: 'boolean', demandOption: true, describe: 'rule changes spare established flows (--no-keep-established: they are judged again)' }),
    run((a: { id: number; keepEstablished: boolean }) => {
      fwSetOptions(a.id, { keepEstablished: a.keepEstablished });
      showDone({ id: a.id, keepEstablished: a.keepEstablished });
    }))
    .command('export <id>', 'the set as JSON (what fw import reads)', (b) => setArg(b),
      run((a: { id: number }) => {
        process.stdout.write(`${JSON.stringify(fwExport(a.id), null, 2)}\n`);
      }))
    .command('import <file>', 'create or replace a set from JSON ({"id": N, "keepEstablished": bool, "rules": [...]}; - for stdin)', (b) => b
      .positional('file', { type: 'string', describe: 'the JSON file' }),
    run((a: { file: string }) => {
      let j: FwSetJson;
      try {
        j = JSON.parse(readFileSync(a.file === '-' ? 0 : a.file, 'utf8')) as FwSetJson;
      } catch (e) {
        throw new UsageError(`${a.file}: ${(e as Error).message}`);
      }
      fwImport(j);
      showDone({ id: j.id, rules: j.rules.length });
    }))
    .command('attach <switch> <port>', 'attach rule sets to a vmnic port (neither option: detach both)', (b) => portArgs(b)
      .option('ingress', { type: 'string', coerce: setId('--ingress'), describe: 'the set for traffic to the VM' })
      .option('egress', { type: 'string', coerce: setId('--egress'), describe: 'the set for traffic from the VM' })
      .example('$0 fw attach $SW $PORT --ingress 10 --egress 11', ''),
    run((a: { switch: string; port: string; ingress?: number; egress?: number }) => {
      using(Switch.open(a.switch), (sw) => {
        withTxn(sw, (txn) => sw.setPortFirewall(a.port, {
          ...(a.ingress !== undefined ? { ingress: a.ingress } : {}), ...(a.egress !== undefined ? { egress: a.egress } : {}),
        }, { txn }));
      });
      showDone({ switch: a.switch, port: a.port, ingress: a.ingress, egress: a.egress });
    }))
    .command('flows <switch> <port>', 'a vmnic port\'s flows', (b) => portArgs(b),
      run((a: { switch: string; port: string }) => {
        using(Switch.open(a.switch), (sw) => showList(sw.portFlows(a.port).map((f) => ({ ...f })), FLOW_COLUMNS));
      }))
    .command('config', 'timeouts and flow limits: show them, or set them with options (a value left out goes back to its default)', (b) => {
      let c = b;
      for (const [opt, , kind, desc] of CONFIG_OPTS) c = c.option(opt, { type: 'string', coerce: kind === 's' ? seconds(`--${opt}`) : flows(`--${opt}`), describe: desc });
      return c.example('$0 fw config --tcp-syn 5 --max-flows-port 100000', '');
    },
    run((a: Record<string, unknown>) => {
      const given = CONFIG_OPTS.filter(([opt]) => a[opt] !== undefined);
      if (given.length > 0) {
        const c: Partial<FwConfig> = {};
        for (const [opt, key] of given) c[key] = a[opt] as number;
        fwSetConfig(c);
      }
      showOne({ ...fwConfig() });
    }))
    .demandCommand(1, 'name a fw command');
}
