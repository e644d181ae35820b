// SPDX-License-Identifier: BSD-2-Clause
/**
 * bench/peer-shell: build the bench/peer systems and keep them up, printing
 * how to point bench/peer_probe at each, until SIGINT/SIGTERM (then clean up).
 * For looking at one figure by hand:  node --import tsx bench/peer-shell.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { common, linuxSystem, vpcSystem, type System } from './peer.ts';
import { buildHelpers } from './probe.ts';

const bins = buildHelpers();
const tmp = mkdtempSync(join(tmpdir(), 'vpc-peer-'));
const systems: System[] = [];
const names = (process.env.PEER_SYSTEMS ?? 'linux,vpc').split(',');
try {
  for (const n of names) systems.push(n === 'linux' ? await linuxSystem(bins, tmp) : await vpcSystem(n as 'vpc' | 'vpc-etcd', tmp));
  for (const s of systems) {
    const envs = Object.entries(s.probeEnv).map(([k, v]) => `${k}=${v} `).join('');
    console.log(`${s.name}: ${envs}${bins.probe} ${common(s).join(' ')} MODE ...   pids ${JSON.stringify(s.pids())}`);
  }
  console.log('ready (SIGINT to tear down)');
  await new Promise<void>((r) => { process.once('SIGINT', () => r()); process.once('SIGTERM', () => r()); });
} finally {
  for (const s of systems.reverse()) await s.close().catch((e: Error) => console.error(e.message));
  rmSync(tmp, { recursive: true, force: true });
}
