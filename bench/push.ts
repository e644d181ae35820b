// SPDX-License-Identifier: BSD-2-Clause
/**
 * bench/push: what push mode buys and costs (docs/agent.md, "Pushes").
 *
 *  a. The first frame to a known VM, measured from outside as bench/peer
 *     measures (bench/peer_probe.c `lat`: an ICMP echo handed to sendto() in
 *     VM 1, the time until its reply is read), each sample the very first
 *     frame after a fresh agent started:
 *       - miss: push off, the entry not installed (the miss path);
 *       - push: push on, the agent restarted with nothing installed (it
 *         pushes before it reports attached), the frame sent at once;
 *       - switched: the entry installed long ago (steady state);
 *     printed as p50/p99 and the ratios push/switched (the target: 1.0, a
 *     pushed first frame is a switched frame) and miss/switched.
 *  b. Preloading PUSH_MAPPINGS (default 100,000) mappings with addresses on
 *     one switch: the agent's own push time, start -> attached with push
 *     beside the same start without it (the load alone), and the kernel's
 *     memory for them (vpc-hostd's resident memory, before and after), per
 *     entry (a CAM entry and a neighbour entry each).
 *
 * Knobs: PUSH_ROUNDS=20 PUSH_MAPPINGS=100000.  Needs root.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '../test/helpers/agent.ts';
import { Overlay } from '../test/helpers/overlay.ts';
import { onExit } from '../test/helpers/reaper.ts';
import { common, vpcSystem } from './peer.ts';
import { buildHelpers, fmt, median, quantile, ratio, runProbe } from './probe.ts';

const ROUNDS = Number(process.env.PUSH_ROUNDS ?? 20);
const NMAPPINGS = Number(process.env.PUSH_MAPPINGS ?? 100_000);
const GAP_MS = 5;
const RESEND_US = 1000;

async function firstFrame(probe: string, tmp: string, out: Record<string, number>): Promise<void> {
  const sys = await vpcSystem('vpc', tmp, [], ['--no-push']);
  try {
    const lat = async (keep: boolean, n = 1) => {
      const r = await runProbe(probe, [...common(sys), 'lat', String(n), String(GAP_MS), String(RESEND_US), '3000', '1', keep ? '1' : '0'], sys.probeEnv);
      return { reply: (r.reply_us as number[]).filter((x) => x >= 0), first: r.first as number[] };
    };
    const miss: number[] = [];
    const pushed: number[] = [];
    const switched: number[] = [];
    let missFirst = 0;
    let pushFirst = 0;
    await lat(false, 5);      // warm up: the agent opens the switch on its first answer, etc.
    for (let r = 0; r < ROUNDS; r++) {
      await sys.restartAgent([], ['--no-push']);
      await sys.flush();
      const m = await lat(false);
      miss.push(...m.reply);
      missFirst += m.first[0] ?? 0;
      await sys.flush();
      await sys.restartAgent([], ['--push']);
      const p = await lat(true);
      pushed.push(...p.reply);
      pushFirst += p.first[0] ?? 0;
      switched.push(...(await lat(true, 5)).reply);
    }
    const row = (name: string, xs: number[]) => console.log(`    ${name.padEnd(40)}${fmt(quantile(xs, 0.5), 0).padStart(10)}${fmt(quantile(xs, 0.99), 0).padStart(10)}${fmt(ratio(median(xs), median(switched)), 2).padStart(12)}`);
    console.log(`  a. the first frame to a known VM -> its reply, µs (${ROUNDS} fresh agents each; lower is better)`);
    console.log(`    ${''.padEnd(40)}${'p50'.padStart(10)}${'p99'.padStart(10)}${'p50/switched'.padStart(12)}`);
    row('miss (push off, nothing installed)', miss);
    row('push (fresh agent, pushed before attach)', pushed);
    row('switched (entry installed long ago)', switched);
    console.log(`    first frame delivered: miss ${missFirst}/${ROUNDS}, push ${pushFirst}/${ROUNDS}`);
    Object.assign(out, {
      first_miss_p50_us: quantile(miss, 0.5), first_miss_p99_us: quantile(miss, 0.99),
      first_push_p50_us: quantile(pushed, 0.5), first_push_p99_us: quantile(pushed, 0.99),
      switched_p50_us: quantile(switched, 0.5), switched_p99_us: quantile(switched, 0.99),
      ratio_push_switched_p50: ratio(median(pushed), median(switched)), ratio_miss_switched_p50: ratio(median(miss), median(switched)),
    });
  } finally {
    await sys.close();
  }
}

async function preload(out: Record<string, number>): Promise<void> {
  const VNI = 910;
  const ov = new Overlay('pp', VNI);
  try {
    await ov.addNode('cn1');
    await ov.setup('cn1', [], { subnets: ['10.0.0.0/8'] });
    const file = join(ov.tmp, 'mappings.json');
    const hex = (n: number) => n.toString(16).padStart(2, '0');
    // Addresses from 10.0.1.0 up: clear of the gateway (10.0.0.1).
    const ip = (i: number) => { const a = i + 256; return `10.${a >> 16}.${(a >> 8) & 0xff}.${a & 0xff}`; };
    writeFileSync(file, JSON.stringify({
      version: 1,
      mappings: Array.from({ length: NMAPPINGS }, (_, i) => ({
        vni: VNI, mac: `02:cc:00:${hex(i >> 16)}:${hex((i >> 8) & 0xff)}:${hex(i & 0xff)}`, vtep: '198.51.100.9', ip: ip(i),
      })),
    }));
    const args = ['--resolver', 'file', '--mappings', file, '--ttl', '600000', '--log-level', 'info'];
    const hostd = ov.hostd.cn1!;
    const start = async (flags: string[]) => {
      const t0 = process.hrtime.bigint();
      const a = await startAgent([...args, ...flags], ov.env('cn1'));
      return { a, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
    };
    const base = await start(['--no-push']);
    await base.a.stop('SIGTERM');
    const rss0 = hostd.rssKiB();
    const push = await start(['--push', '--push-cap', String(NMAPPINGS)]);
    const rss1 = hostd.rssKiB();
    const line = push.a.logs.find((l) => l.msg === 'mappings pushed to the switches') ?? {};
    await push.a.stop('SIGTERM');
    const cam = Number(line.cam ?? 0);
    const nbr = Number(line.neighbours ?? 0);
    const perEntry = ((rss1 - rss0) * 1024) / Math.max(1, cam);
    console.log(`  b. preloading ${NMAPPINGS} mappings with an IPv4 address each (lower is better)`);
    console.log(`    push itself (the agent's measure): ${fmt(Number(line.ms ?? NaN), 0)} ms for ${cam} CAM + ${nbr} neighbour entries`);
    console.log(`    start -> attached: with push ${fmt(push.ms, 0)} ms, without ${fmt(base.ms, 0)} ms (ratio ${fmt(ratio(push.ms, base.ms), 2)})`);
    console.log(`    kernel memory (vpc-hostd RSS): +${fmt((rss1 - rss0) / 1024, 1)} MiB, ${fmt(perEntry, 0)} bytes per mapping (CAM + neighbour entry)`);
    Object.assign(out, {
      preload_mappings: NMAPPINGS, preload_push_ms: Number(line.ms ?? NaN), preload_cam: cam, preload_nbr: nbr,
      preload_attach_push_ms: push.ms, preload_attach_nopush_ms: base.ms, preload_kernel_bytes_per_mapping: perEntry,
    });
  } finally {
    await ov.close();
  }
}

export async function benchPush(): Promise<Record<string, number>> {
  if (process.getuid?.() !== 0) {
    console.log('bench/push: skipped (needs root for namespaces and TAP devices)');
    return {};
  }
  const { probe } = buildHelpers();
  const tmp = mkdtempSync(join(tmpdir(), 'vpc-push-'));
  const atExit = onExit(() => rmSync(tmp, { recursive: true, force: true }));
  const out: Record<string, number> = {};
  try {
    console.log('bench/push: push mode against the miss path and a switched frame');
    await firstFrame(probe, tmp, out);
    await preload(out);
    console.log(`bench/push JSON: ${JSON.stringify(Object.fromEntries(Object.entries(out).filter(([, v]) => Number.isFinite(v))))}`);
    return out;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    atExit.forget();
  }
}
