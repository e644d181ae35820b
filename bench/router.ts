// SPDX-License-Identifier: BSD-2-Clause
/**
 * bench/router: the router in the core, no I/O (kmod/bench/rtr_bench.c):
 * routed vs switched forwarding of the same frames as a ratio from one run
 * (target: routed >= 0.67 of switched; also frames to two destinations in
 * turn, the worst case of the router's per-vmnic memo), route lookup at 10,
 * 1,000 and 100,000 routes, IPv4 and IPv6 (target: 100k <= 2x 10), memory
 * per route and per attachment.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { buildDir } from '../test/helpers/paths.ts';

interface RtrResult {
  switched_mpps: number;
  routed_mpps: number;
  ratio: number;
  routed_alt_mpps: number;
  ratio_alt: number;
  lookup4_ns: Record<string, number>;
  lookup6_ns: Record<string, number>;
  bytes_per_route4: number;
  bytes_per_route6: number;
  bytes_per_attachment: number;
  router_object_bytes: number;
  replace4_ms: number;
  replace6_ms: number;
}

export async function benchRouter(): Promise<Record<string, number>> {
  const seconds = process.env.BENCH_SECONDS ?? '1';
  const r = JSON.parse(execFileSync(resolve(buildDir, 'rtr_bench'), [seconds], { encoding: 'utf8' })) as RtrResult;
  const l4 = r.lookup4_ns;
  const l6 = r.lookup6_ns;
  const ratio = (l: Record<string, number>) => ((l['100000'] ?? 0) / (l['10'] ?? 1)).toFixed(2);
  console.log('bench/router: frames from a vmnic, no I/O');
  console.log(`  switched (CAM + VXLAN)                 ${r.switched_mpps.toFixed(2).padStart(7)} Mpps`);
  console.log(`  routed (route + nbr + rewrite + TTL)   ${r.routed_mpps.toFixed(2).padStart(7)} Mpps   ratio ${r.ratio.toFixed(2)} (target >= 0.67)`);
  console.log(`  routed, two destinations in turn     ${r.routed_alt_mpps.toFixed(2).padStart(7)} Mpps   ratio ${r.ratio_alt.toFixed(2)} (the router memo's worst case)`);
  console.log(`  IPv4 route lookup: ${Object.entries(l4).map(([k, v]) => `${k} routes ${v.toFixed(1)} ns`).join(', ')}   100k/10 ${ratio(l4)}x (target <= 2)`);
  console.log(`  IPv6 route lookup: ${Object.entries(l6).map(([k, v]) => `${k} routes ${v.toFixed(1)} ns`).join(', ')}   100k/10 ${ratio(l6)}x (target <= 2)`);
  console.log(`  memory: ${r.bytes_per_route4.toFixed(0)} bytes per IPv4 route, ${r.bytes_per_route6.toFixed(0)} per IPv6 route (100k), ${r.bytes_per_attachment.toFixed(0)} per attachment; the router object ${r.router_object_bytes} bytes`);
  console.log(`  build: a 100,000-route replace ${r.replace4_ms.toFixed(0)} ms (IPv4), ${r.replace6_ms.toFixed(0)} ms (IPv6)`);
  return {
    router_ratio: r.ratio, routed_mpps: r.routed_mpps, switched_mpps: r.switched_mpps,
    router_ratio_alt: r.ratio_alt, routed_alt_mpps: r.routed_alt_mpps,
    ...Object.fromEntries(Object.entries(l4).map(([k, v]) => [`lookup4_ns_${k}`, v])),
    ...Object.fromEntries(Object.entries(l6).map(([k, v]) => [`lookup6_ns_${k}`, v])),
    bytes_per_route4: r.bytes_per_route4, bytes_per_route6: r.bytes_per_route6, bytes_per_attachment: r.bytes_per_attachment,
    replace4_ms: r.replace4_ms, replace6_ms: r.replace6_ms,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await benchRouter();
