// SPDX-License-Identifier: BSD-2-Clause
/**
 * Writes docs/vpcctl.md from vpcctl's own yargs definitions: the --help of
 * every command, and the --json shape each prints.  `npm run gen:docs`;
 * test/vpcctl.test.ts fails while the page is out of date.
 */
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vpcctl } from '../src/cli/vpcctl.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every command, with what --json prints. */
export const COMMANDS: Array<[string, string]> = [
  ['status', '`{kernel, reachable, objects, vmnic?, switch?, port?, vcc?, handles, coreBytes, agentAttached, upcallsPending, framesHeld, connRefused}`'],
  ['vmnic create', '`{id}`'],
  ['vmnic get', '`{id, mac?, ifname?, mtu, mtuDefault, mtuForced?, mtuFit?, ipv4?, ipv6?, committed, plugged, port?, handles, generation, dhcp?: {enabled, leaseSeconds, dns, domain?, hostname?, routes}}` (routes as `DESTINATION/PREFIX,GATEWAY`)'],
  ['vmnic set', '`{ok, id, mtu, mtuDefault}`'],
  ['vmnic set-mac', '`{ok, id, mac}`'],
  ['vmnic set-addr', '`{ok, id, ipv4?, ipv6?}`'],
  ['vmnic set-dhcp', '`{ok, id, dhcp}` (`dhcp` as `vmnic get` shows it)'],
  ['vmnic list', 'an array of what `vmnic get` prints'],
  ['vmnic destroy', '`{ok, id}`'],
  ['switch create', '`{id}`'],
  ['switch get', '`{id, vni?, subnets, ports, uplink, router, committed, generation, gateway: {mac, ipv4?, ipv6?, linkLocal}, policy: {bum, upcallRate, upcallBurst, raIntervalS}}`'],
  ['switch list', 'an array of what `switch get` prints'],
  ['switch destroy', '`{ok, id}`'],
  ['switch set-vni', '`{ok, id, vni}`'],
  ['switch set-subnet', '`{ok, id, subnet}`'],
  ['switch set-gateway', '`{ok, id, mac, ipv4?, ipv6?}`'],
  ['switch set-policy', '`{ok, id, bum, upcallRate, upcallBurst, raIntervalS}`'],
  ['switch port add', '`{id, kind, vlan?, vni?, mac?, peer?}`'],
  ['switch port list', 'an array of what `switch port add` prints'],
  ['switch port del', '`{ok, switch, port}`'],
  ['switch port count', '`{ports, vni?, hasUplink, hasRouter}`'],
  ['cam set', '`{ok, switch, mac}`'],
  ['cam get', '`{dst, src?, kind, vtep?, port?, ttlMs, vni, localPort?, generation, revision, used}`'],
  ['cam del', '`{ok, switch, mac}`'],
  ['cam flush', '`{flushed}`'],
  ['cam dump', 'an array of what `cam get` prints'],
  ['nbr set', '`{ok, switch, ip}`'],
  ['nbr get', '`{ip, kind, mac?, ttlMs, localPort?, generation, revision, used}`'],
  ['nbr del', '`{ok, switch, ip}`'],
  ['nbr flush', '`{flushed}`'],
  ['nbr dump', 'an array of what `nbr get` prints'],
  ['vcc create', '`{id}`'],
  ['vcc get', '`{id, ipv4?, ipv6?, port, mtu?, l2Interface?, uplinks, committed, stats}`'],
  ['vcc set', '`{ok, id}`'],
  ['stats', '`{switch, rxFrames, txLocal, txRemote, ..., misses, upcalls, held, holdDrops, answers, timeouts, ...}`'],
  ['map set', '`{ok, vni, mac, vtep, port?, ip?, ip6?, revision}`'],
  ['map get', '`{vni, mac, vtep, port?, ip?, ip6?, revision}`'],
  ['map del', '`{ok, vni, mac}`'],
  ['map list', 'an array of what `map get` prints'],
  ['upcall watch', 'one JSON object per line: `{kind, id, gen, switch, vni, vlan?, src, dst, dstIp?}`'],
  ['upcall stats', '`{pending, undelivered, held, readers, delivered, requeued}`'],
  ['router create', '`{id}`'],
  ['router get', '`{id, attached, committed, generation, attachments: [{switch, vni, ...its gateway}], routes, stats}`'],
  ['router list', 'an array of what `router get` prints'],
  ['router attach', '`{ok, id, switch}`'],
  ['router detach', '`{ok, id, switch}`'],
  ['router destroy', '`{ok, id}`'],
  ['route add', '`{ok, router, destination}`'],
  ['route del', '`{ok, router, destination}`'],
  ['route list', '`[{destination, target, class, switch?, unusable, serial}]`'],
  ['route get', '`{destination, target, class, switch?, unusable, serial}`'],
  ['route replace', '`{ok, router, routes}`'],
  ['fw create', '`{ok, id}`'],
  ['fw destroy', '`{ok, id}`'],
  ['fw list', '`[{id, keepEstablished, rules, ports, generation}]`'],
  ['fw get', '`{id, keepEstablished, rules: [{text, hits, ...}], ports, generation}`'],
  ['fw rules', '`{ok, id, rules}`'],
  ['fw show', '`[{dir, action, priority, proto, remote, ports, hits, text, ...}]`'],
  ['fw set', '`{ok, id, keepEstablished}`'],
  ['fw export', '`{id, keepEstablished, rules: [...]}` (what `fw import` reads)'],
  ['fw import', '`{ok, id, rules}`'],
  ['fw attach', '`{ok, switch, port, ingress?, egress?}`'],
  ['fw flows', '`[{af, proto, dir, state?, localIp, localPort, remoteIp, remotePort, vni, expireMs, pktsOut, pktsIn}]`'],
  ['fw config', '`{flows, tcpSynSeconds, tcpEstablishedSeconds, tcpFinSeconds, tcpTimeWaitSeconds, tcpClosedSeconds, udpSeconds, icmpSeconds, otherSeconds, maxFlowsPerPort, maxFlows}`'],
  ['link create', '`{id}`'],
  ['link bind', '`{ok, id, ifname}`'],
  ['link unbind', '`{ok, id}`'],
  ['link get', '`{id, ifname?, mac?, users, committed, stats}`'],
  ['link list', 'an array of what `link get` prints'],
  ['link destroy', '`{ok, id}`'],
  ['nat create', '`{id}`'],
  ['nat get', '`{id, link?, router?, committed, config: {maxFlows, tcpIncipient, tcpEstablished, tcpClosing, udp, icmp, upstreamMac?, upstreamIp?, flows}, upstream: {state, mac?, ip?, learnedMs?, askedMs?}, eips: [{private, external}], stats}`'],
  ['nat list', 'an array of what `nat get` prints'],
  ['nat config', '`{id, ...config}` (`config` as `nat get` shows it)'],
  ['nat set-link', '`{ok, id, link?}`'],
  ['nat attach', '`{ok, id, router}`'],
  ['nat detach', '`{ok, router}`'],
  ['nat eip', 'bind and unbind: `{ok, id, private, external?}`; list: `[{private, external}]`'],
  ['nat pool', '`{ok, id, external}`'],
  ['nat snat', 'bind and unbind: `{ok, id, private, external?}`; get: `{private, external, blocks: {tcp, udp, icmp}, blockSize, flows: {tcp, udp, icmp}, exhausted: {tcp, udp, icmp}}`'],
  ['nat flows', '`[{proto, private, external, remote, state, idleMs}]` (addresses as `ADDRESS:PORT`)'],
  ['nat destroy', '`{ok, id}`'],
];

async function help(path: string[]): Promise<string> {
  let out = '';
  const y = vpcctl([...path, '--help']).exitProcess(false).wrap(100);
  await y.parseAsync([...path, '--help'], {}, (_err, _argv, output) => { out = output; });
  return out.trimEnd();
}

export async function renderDocs(): Promise<string> {
  const parts = [
    '# vpcctl',
    '',
    'Generated by `npm run gen:docs` from the yargs definitions in `src/cli/`: what follows is',
    'exactly what `--help` prints.  Exit status: 0 when the command did what was asked, 1 when',
    'the operation failed (one line: the errno name, the op and the object), 2 for a usage',
    'error (the message, then the command\'s usage).  Malformed ids, MACs, VLANs, VNIs and',
    'addresses are refused before any call is made.  `--json` prints the shape given per',
    'command (absent fields are left out); the default is a table or a key/value list.',
    '',
    'With `--json`, a command that fails prints one JSON object **on stdout** (where its output',
    'would have gone), with the same exit status, and the usual line on stderr:',
    '',
    '```json',
    '{"error": {"code": "EEXIST", "errno": 17, "message": "EEXIST: vpc_open on switch ...: already exists",',
    '           "op": "vpc_open", "objectId": "3f0c5e4a-9b1d-4c2e-8f6a-1b2c3d4e5f60"}}',
    '```',
    '',
    '`code` is the errno name and `errno` its number on this system; `op` is the kernel op',
    '(`vpc_open`, `VPC_OP_...`), `usage` for a usage error (`EINVAL`, exit 2) or the command',
    '(`map get`); `errno`, `op` and `objectId` are left out when there is none.  `status` puts',
    'it beside what it could tell: `{kernel, reachable: false, error}`.  The nil UUID',
    '(`00000000-0000-0000-0000-000000000000`) is refused as an id: it is reserved.',
    '',
    '```',
    await help([]),
    '```',
    '',
  ];
  for (const [cmd, json] of COMMANDS) {
    parts.push(`## vpcctl ${cmd}`, '', '```', await help(cmd.split(' ')), '```', '', `JSON: ${json}`, '');
  }
  return parts.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(resolve(root, 'docs/vpcctl.md'), await renderDocs());
  console.log('wrote docs/vpcctl.md');
}
