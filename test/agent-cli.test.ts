// SPDX-License-Identifier: BSD-2-Clause
/**
 * vpc-agent's command line and its FreeBSD service files: every setting is
 * documented in --help and can come from a config file; a bad setting is
 * refused naming it (exit 2); a second agent on the same kernel says another
 * reader is attached (exit 1); the rc.d script parses with sh -n and the
 * devd rules are well formed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { defaults } from '../src/agent/config.ts';
import { startAgent } from './helpers/agent.ts';
import { startHostd, type Hostd } from './helpers/hostd.ts';
import { root } from './helpers/paths.ts';

const bin = resolve(root, 'bin/vpc-agent.js');
let hostd: Hostd;

function agent(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 20_000 });
}

before(async () => { hostd = await startHostd({ setEnv: false }); });
after(async () => { await hostd.stop(); });

test('--help documents every setting', () => {
  const r = agent(['--help']);
  assert.equal(r.status, 0);
  const flag = (k: string) => `--${k.replace(/Ms$/, '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  for (const k of Object.keys(defaults)) assert.ok(r.stdout.includes(flag(k)), `${flag(k)} in --help`);
  assert.match(r.stdout, /--config/);
});

test('bad settings are refused naming the setting (exit 2)', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--resolver', 'dns'], /resolver.*Choices: "file", "etcd"/s],
    [['--etcd-endpoints', 'localhost:2379'], /etcd-endpoints: expected URLs like http:\/\/127\.0\.0\.1:2379/],
    [['--etcd-prefix', 'vpc'], /etcd-prefix: expected a key prefix starting with \//],
    [['--metrics-addr', 'nowhere'], /metrics-addr: expected host:port or off/],
    [['--ttl', '-1'], /ttl: expected a whole number >= 0/],
    [['--concurrency', '0'], /concurrency: expected a whole number >= 1/],
    [['--bogus'], /Unknown argument: bogus/],
  ];
  for (const [args, want] of cases) {
    const r = agent(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want);
  }
});

test('a config file: unknown settings refused; its settings used, flags win', async () => {
  const cfg = join(hostd.dir, 'agent.json');
  writeFileSync(cfg, JSON.stringify({ resolver: 'file', mapings: '/tmp/x' }));
  const r = agent(['--config', cfg]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown setting 'mapings'/);
  writeFileSync(cfg, JSON.stringify({ relay: 'yes' }));
  const r2 = agent(['--config', cfg]);
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /relay: expected true or false, got "yes"/);
  const mappings = join(hostd.dir, 'm.json');
  writeFileSync(mappings, '{"mappings": []}');
  writeFileSync(cfg, JSON.stringify({ resolver: 'etcd', mappings, negativeTtlMs: 500, push: false, relay: false }));
  const a = await startAgent(['--config', cfg, '--resolver', 'file'], { VPC_HOSTD_SOCKET: hostd.socket });
  const loaded = await a.waitLog((l) => l.msg === 'mappings loaded', 'the file load');
  assert.equal(loaded.file, mappings, 'the flag chose the file resolver, the file gave its path');
  assert.equal(a.logs.find((l) => l.msg === 'attached as the upcall reader')?.push, false, 'push mode off from the file');
  assert.equal(a.logs.find((l) => l.msg === 'attached as the upcall reader')?.relay, false, 'the relay off from the file');
  assert.equal(await a.stop(), 0);
});

test('a second agent on the same kernel: another reader is attached (exit 1)', async () => {
  const mappings = join(hostd.dir, 'm2.json');
  writeFileSync(mappings, '{"mappings": []}');
  const env = { VPC_HOSTD_SOCKET: hostd.socket };
  const first = await startAgent(['--mappings', mappings], env);
  assert.equal(first.logs.find((l) => l.msg === 'attached as the upcall reader')?.push, true, 'push mode is the default');
  assert.equal(first.logs.find((l) => l.msg === 'attached as the upcall reader')?.relay, true, 'the relay is the default');
  const r = agent(['--mappings', mappings, '--metrics-addr', 'off'], env);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /another upcall reader is attached/);
  assert.equal(await first.stop(), 0);
});

test('the rc.d script parses (sh -n) and carries the rc.conf knobs', () => {
  const rc = resolve(root, 'service/rc.d/vpc_agent');
  assert.equal(spawnSync('sh', ['-n', rc]).status, 0);
  const text = readFileSync(rc, 'utf8');
  for (const knob of ['vpc_agent_enable', 'vpc_agent_flags', 'vpc_agent_config', 'pidfile', '/usr/sbin/daemon', 'run_rc_command']) {
    assert.ok(text.includes(knob), knob);
  }
});

test('the devd rules are well formed', () => {
  const text = readFileSync(resolve(root, 'service/devd/vpc.conf'), 'utf8').replace(/#.*$/gm, '');
  const rules = [...text.matchAll(/notify\s+\d+\s*\{([^}]*)\};/g)];
  assert.ok(rules.length >= 3);
  assert.equal((text.match(/\{/g) ?? []).length, rules.length, 'braces balance');
  for (const [, body] of rules) {
    assert.match(body!, /match "system"\s+"VPC";/);
    assert.match(body!, /action "[^"]+";/);
  }
});
