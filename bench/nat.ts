// SPDX-License-Identifier: BSD-2-Clause
/**
 * bench/nat: translated vs plain routed forwarding in the core, no I/O
 * (kmod/bench/natfwd_bench.c), as ratios from one run: SNAT of 1,000
 * established flows and an EIP's stateless rewrite, each against routed
 * forwarding of the same frames to another subnet (target: translated >=
 * 0.67 of routed, i.e. NAT costs <= 1.5x).  The engine alone (flow setup
 * rate, lookup cost at 1k and 1M flows) is kmod/build/nat_bench.
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
  return { ...r };
}

if (import.meta.url === `file://${process.argv[1]}`) await benchNat();
