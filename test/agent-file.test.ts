// SPDX-License-Identifier: BSD-2-Clause
/**
 * vpc-agent with the file resolver (the embedded default): answers from the
 * JSON mapping file; a changed file is reloaded (on change and on SIGHUP)
 * and installed entries follow; a broken file is reported with its line and
 * what is wrong, and the previous mappings stay in force; SIGTERM drains
 * and exits 0.  The upcall relay (on by default) answers the file's MACs
 * from its own copy of the mappings, which follows every reload; what the
 * file does not have stays the agent's to answer.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startAgent, type AgentProc } from './helpers/agent.ts';
import { Overlay, until } from './helpers/overlay.ts';

const VNI = 300;
const vm1 = { name: 'vm1', mac: '02:00:00:03:00:01', ip: '203.0.113.1' };
const far = '02:00:00:03:00:99';        // a VM on another node
const framesPy = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, 'fixtures', 'frames.py');

const ov = new Overlay('af', VNI);
let file: string;
let agent: AgentProc;

function writeMappings(vtep: string): void {
  writeFileSync(file, JSON.stringify({ version: 1, mappings: [{ vni: VNI, mac: far, vtep }] }, null, 2));
}

/** One frame from vm1 to the far MAC: a miss if there is no entry. */
function sendFar(): void {
  ov.lab.run('/usr/bin/python3', [framesPy, 'send', 'vm1', far, vm1.mac, '1'], { ns: 'vm1' });
}

async function entry(): Promise<{ vtep?: string; error?: string }> {
  return (await ov.node.cn1!.call('camGet', { mac: far })) as { vtep?: string; error?: string };
}

before(async () => {
  await ov.addNode('cn1');
  await ov.setup('cn1', [vm1]);
  file = join(ov.tmp, 'mappings.json');
  writeMappings('198.51.100.2');
  // The miss path (an upcall answered from the file, the miss counters) is what this tests: push mode off.
  agent = await startAgent(['--resolver', 'file', '--mappings', file, '--ttl', '60000', '--no-push'], ov.env('cn1'));
});

after(async () => {
  await agent?.stop('SIGKILL');
  assert.deepEqual(await ov.close(), []);
});

describe('vpc-agent with the mapping file', () => {
  test('answers from the file: the relay answers, the agent counts it as its own', async () => {
    assert.ok(agent.logs.some((l) => l.msg === 'attached as the upcall reader' && l.relay === true), 'attached through the relay');
    sendFar();
    await until(async () => (await entry()).vtep === '198.51.100.2', 'the entry');
    await until(async () => (await agent.metric('vpc_agent_answers_total', { result: 'found' })) === 1, 'the answer counted');
    assert.equal(await agent.metric('vpc_agent_relay_answers_total'), 1);
    assert.equal(await agent.metric('vpc_agent_upcalls_total'), 1);
    assert.equal(await agent.metric('vpc_agent_entries_installed_total'), 1);
    assert.equal(await agent.metric('vpc_agent_answers_refused_total'), 0);
  });

  test('a changed file is reloaded and the installed entry follows', async () => {
    writeMappings('198.51.100.3');
    await until(async () => (await entry()).vtep === '198.51.100.3', 'the entry to follow the file');
    // The relay's copy followed too: a fresh miss is answered with the new VTEP.
    await ov.node.cn1!.call('camFlush');
    sendFar();
    await until(async () => (await entry()).vtep === '198.51.100.3', 'the relay to answer from the reloaded file');
    await until(async () => (await agent.metric('vpc_agent_relay_answers_total')) === 2, 'the relay answer counted');
  });

  test('a MAC the file does not have: the agent answers (not found), not the relay', async () => {
    const other = '02:00:00:03:00:77';
    const relayed = await agent.metric('vpc_agent_relay_answers_total');
    const notFound = await agent.metric('vpc_agent_answers_total', { result: 'not_found' });
    ov.lab.run('/usr/bin/python3', [framesPy, 'send', 'vm1', other, vm1.mac, '1'], { ns: 'vm1' });
    await until(async () => (await agent.metric('vpc_agent_answers_total', { result: 'not_found' })) === notFound + 1, 'the negative answer');
    assert.equal(await agent.metric('vpc_agent_relay_answers_total'), relayed);
    const neg = (await ov.node.cn1!.call('camGet', { mac: other })) as { kind?: string };
    assert.equal(neg.kind, 'negative');
  });

  test('a broken file: a clear error with its line, and the previous mappings kept', async () => {
    writeFileSync(file, '{\n  "version": 1,\n  "mappings": [\n    { "vni": 300, "mac": "02:00:00:03:00:99", "vtep": "198.51.100.4" },\n  ]\n}\n');
    const bad = await agent.waitLog((l) => typeof l.err === 'string' && (l.err as string).startsWith(`${file}:5:`), 'the syntax error');
    assert.match(bad.msg as string, /keeping the last good mappings/);
    writeFileSync(file, JSON.stringify({ mappings: [{ vni: VNI, mac: 'zz:00:00:03:00:99', vtep: '198.51.100.4' }] }, null, 2));
    const bad2 = await agent.waitLog((l) => typeof l.err === 'string' && /mappings\[0\]\.mac: expected a unicast MAC/.test(l.err as string), 'the schema error');
    // {\n  "mappings": [\n    {\n      "vni": 300,\n      "mac": ...: the field is on line 5.
    assert.match(bad2.err as string, new RegExp(`^${file.replace(/[.]/g, '\\.')}:5:7: `), 'names the line of the bad field');
    // The last good mapping (198.51.100.3) still answers a fresh miss.
    await ov.node.cn1!.call('camFlush');
    sendFar();
    await until(async () => (await entry()).vtep === '198.51.100.3', 'an answer from the kept mappings');
  });

  test("the kernel's counters on /metrics, read at scrape time", async () => {
    const { switch: sw, vcc } = ov.ids.cn1!;
    type Stats = { switch: Record<string, number>; upcalls: Record<string, number>; system: { byType: Record<string, number> } };
    const stats = async () => (await ov.node.cn1!.call('stats')) as Stats;
    // The daemon takes the frame after the sender returns: the snapshot is
    // taken once it has gone out, so that nothing moves between it and the scrape.
    const tx0 = (await stats()).switch.txRemote!;
    sendFar();
    await until(async () => (await stats()).switch.txRemote! > tx0, 'the frame to go out');
    const k = await stats();
    const m = (name: string, labels?: Record<string, string>) => agent.metric(name, labels);
    assert.equal(await m('vpc_kernel_up'), 1);
    // Counters only the test's frames move (the VM's own multicast moves rxFrames and flooded too).
    for (const [name, key] of [['misses', 'misses'], ['tx_remote', 'txRemote'], ['upcalls', 'upcalls'],
      ['hold_drops', 'holdDrops'], ['drop_spoof', 'dropSpoof'], ['timeouts', 'timeouts']] as const) {
      assert.equal(await m(`vpc_switch_${name}_total`, { switch: sw, vni: String(VNI) }), k.switch[key], name);
    }
    assert.ok(await m('vpc_switch_rx_frames_total', { switch: sw }) >= k.switch.rxFrames!);
    assert.ok(k.switch.misses! >= 1 && k.switch.txRemote! >= 1);
    assert.equal(await m('vpc_vcc_tx_total', { vcc }), k.switch.txRemote, 'what the switch sent, the vcc sent');
    assert.equal(await m('vpc_vcc_rx_sock_drops_total', { vcc }), 0);
    assert.equal(await m('vpc_upcall_readers'), 1, 'the agent itself');
    assert.equal(await m('vpc_upcall_pending'), k.upcalls.pending);
    assert.equal(await m('vpc_kernel_objects', { type: 'switch' }), k.system.byType.switch);
    // At scrape time: a frame more is seen at the next scrape, nobody asked the agent.
    await ov.node.cn1!.call('camFlush');
    sendFar();
    await until(async () => (await m('vpc_switch_misses_total', { switch: sw })) === k.switch.misses! + 1, 'the next miss on /metrics');
    const text = await (await fetch(`http://${agent.metricsAddr}/metrics`)).text();
    assert.match(text, /^# TYPE vpc_switch_drop_runt_total counter$/m);
    assert.match(text, /^# HELP vpc_vcc_rx_sock_drops_total vcc: dropped by the OS before we saw them: socket buffer full$/m, 'the help text is the comment in vpc.h');
  });

  test('SIGHUP reloads the file', async () => {
    writeMappings('198.51.100.5');
    agent.proc.kill('SIGHUP');
    await agent.waitLog((l) => l.msg === 'mappings loaded' && l.why === 'SIGHUP', 'a SIGHUP reload');
    await until(async () => (await entry()).vtep === '198.51.100.5', 'the entry to follow');
  });

  test('a mapping removed from the file: the relay no longer answers it, the agent says not found', async () => {
    writeFileSync(file, JSON.stringify({ version: 1, mappings: [] }, null, 2));
    agent.proc.kill('SIGHUP');
    await agent.waitLog((l) => l.msg === 'mappings loaded' && l.mappings === 0, 'the empty reload');
    await until(async () => (await entry()).vtep === undefined, 'the entry to go with its mapping');
    const relayed = await agent.metric('vpc_agent_relay_answers_total');
    const notFound = await agent.metric('vpc_agent_answers_total', { result: 'not_found' });
    await ov.node.cn1!.call('camFlush');
    sendFar();
    await until(async () => (await agent.metric('vpc_agent_answers_total', { result: 'not_found' })) === notFound + 1, 'the negative answer');
    assert.equal(await agent.metric('vpc_agent_relay_answers_total'), relayed);
  });

  test('SIGTERM drains and exits 0', async () => {
    assert.equal(await agent.stop('SIGTERM'), 0);
    await agent.waitLog((l) => l.msg === 'stopped', 'the stopped line').catch(() => {});
  });
});
