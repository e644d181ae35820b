// SPDX-License-Identifier: BSD-2-Clause
/**
 * bench/nat: translated vs plain routed forwarding in the core, no I/O
 * (kmod/bench/natfwd_bench.c), as ratios from one run: SNAT of 1,000
 * established flows and an EIP's stateless rewrite, each against routed
 * forwarding of the same frames to another subnet (target: translated >=
 * 0.67 of routed, i.e. NAT costs <= 1.5x); then the engine alone
 * (kmod/build/nat_bench): new flows a second (target >= 100,000 per core),
 * an established flow's packet at 1M flows against 1k (target <= 2x), the
 * bytes a flow costs (target <= 128).
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { buildDir } from '../test/helpers/paths.ts';

interface NatResult {
  routed_mpps: number;
  snat_mpps: number;
  eip_mpps: number;
  snat_ratio: number;
  eip_ratio: number;
  flows: number;
}

export async function benchNat(): Promise<Record<string, number>> {
  const seconds = process.env.BENCH_SECONDS ?? '1';
  const r = JSON.parse(execFileSync(resolve(buildDir, 'natfwd_bench'), [seconds], { encoding: 'utf8' })) as NatResult;
  console.log('bench/nat: frames from a vmnic, no I/O');
  console.log(`  routed (to another subnet, VXLAN)        ${r.routed_mpps.toFixed(2).padStart(7)} Mpps`);
  console.log(`  SNAT (${r.flows} established flows, link) ${r.snat_mpps.toFixed(2).padStart(7)} Mpps   ratio ${r.snat_ratio.toFixed(2)} (target >= 0.67)`);
  console.log(`  EIP (stateless, link)                    ${r.eip_mpps.toFixed(2).padStart(7)} Mpps   ratio ${r.eip_ratio.toFixed(2)} (target >= 0.67)`);
  const e = execFileSync(resolve(buildDir, 'nat_bench'), ['1000000'], { encoding: 'utf8' });
  const num = (re: RegExp): number => Number(re.exec(e)?.[1] ?? NaN);
  const setup = num(/set up at (\d+) flows\/s/);
  const small = num(/1k flows: ([\d.]+) ns/);
  const big = num(/1000000 flows: ([\d.]+) ns/);
  const flowBytes = num(/a flow is (\d+) bytes/);
  const bucketBytes = num(/buckets (\d+) bytes/);
  console.log('bench/nat: the engine alone (nat_bench), one CPU');
  console.log(`  flow setup ${(setup / 1e6).toFixed(2)} M flows/s (target >= 0.1)`);
  console.log(`  established flow: 1k flows ${small.toFixed(0)} ns, 1M flows ${big.toFixed(0)} ns   ratio ${(big / small).toFixed(2)} (target <= 2)`);
  console.log(`  memory: ${flowBytes} bytes a flow + ${bucketBytes} of buckets (target <= 128)`);
  return { ...r, flow_setup_per_s: setup, lookup_1k_ns: small, lookup_1m_ns: big, lookup_ratio: big / small, flow_bytes: flowBytes + bucketBytes };
}

if (import.meta.url === `file://${process.argv[1]}`) await benchNat();
