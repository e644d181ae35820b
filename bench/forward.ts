/**
 * bench/forward: the core's forwarding of prebuilt frames (CAM lookup and
 * VXLAN encapsulation, no I/O) beside a baseline loop doing a hash lookup
 * and a copy of the same frames, as a ratio from one run; CAM lookup cost at
 * 1k, 100k and 1M entries; memory per entry; ARP requests answered by the
 * switch from cached neighbour entries, beside forwarding in the same run.  The work is in C
 * (kmod/bench/fwd_bench.c): this prints it.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { buildDir } from '../test/helpers/paths.ts';

interface FwdResult {
  forward_mpps: number;
  baseline_mpps: number;
  ratio: number;
  arp_mpps: number;
  arp_cost_vs_forward: number;
  lookup_ns: Record<string, number>;
  entries: number;
  bytes_per_entry: number;
  table_bytes_per_entry: number;
}

export async function benchForward(): Promise<Record<string, number>> {
  const seconds = process.env.BENCH_SECONDS ?? '1';
  const r = JSON.parse(execFileSync(resolve(buildDir, 'fwd_bench'), [seconds], { encoding: 'utf8' })) as FwdResult;
  console.log('bench/forward: frames from a vmnic to remote MACs, lookup + VXLAN encapsulation, no I/O');
  console.log(`  baseline (hash lookup + copy)  ${r.baseline_mpps.toFixed(2).padStart(7)} Mpps`);
  console.log(`  core forwarding                ${r.forward_mpps.toFixed(2).padStart(7)} Mpps   ratio ${r.ratio.toFixed(2)}`);
  console.log(`  ARP request -> reply (cached) ${r.arp_mpps.toFixed(2).padStart(7)} Mpps   cost ${r.arp_cost_vs_forward.toFixed(2)}x forwarding a frame (target: >= 1 Mpps, <= 2x)`);
  console.log(`  CAM lookup: ${Object.entries(r.lookup_ns).map(([k, v]) => `${k} entries ${v.toFixed(1)} ns`).join(', ')}`);
  console.log(`  memory: ${r.bytes_per_entry.toFixed(0)} bytes per entry (${r.entries} entries)`);
  return { fwd_mpps: r.forward_mpps, fwd_ratio: r.ratio, arp_mpps: r.arp_mpps, arp_cost_vs_forward: r.arp_cost_vs_forward, ...Object.fromEntries(Object.entries(r.lookup_ns).map(([k, v]) => [`lookup_ns_${k}`, v])) };
}

if (import.meta.url === `file://${process.argv[1]}`) await benchForward();
