// SPDX-License-Identifier: BSD-2-Clause
/**
 * bench/forward: the core's forwarding of prebuilt frames (CAM lookup and
 * VXLAN encapsulation, no I/O) beside a baseline loop doing a hash lookup
 * and a copy of the same frames, as a ratio from one run; CAM lookup cost at
 * 1k, 100k and 1M entries (keys drawn from the whole table), and at 1M as a
 * caller with a batch in hand would do it (prefetching ahead), and inside
 * the data path: frames to those MACs one at a time and in bursts
 * (vpc_nic_input_burst, what vpc-hostd hands over); UDP datagrams from a
 * VM with an IPv4 address, as DHCP configures a guest (the switch parses
 * each one's IP header: DHCP? its source the VM's?); memory per
 * entry; ARP requests answered by the switch from cached neighbour entries,
 * beside forwarding in the same run; neighbour table lookups at 1k, 100k and
 * 1M entries and memory per entry; and, with valgrind, the instructions a
 * frame of the baseline, forwarding, UDP from an addressed VM and ARP
 * (BENCH_INSTR=0: not).  Entries carry vpc-agent's default TTL
 * (300 s), as the ones it installs do, so each lookup checks its expiry.
 * The work is in C (kmod/bench/fwd_bench.c): this prints it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildDir } from '../test/helpers/paths.ts';

interface FwdResult {
  forward_mpps: number;
  baseline_mpps: number;
  ratio: number;
  arp_mpps: number;
  arp_cost_vs_forward: number;
  lookup_ns: Record<string, number>;
  lookup_ns_prefetched_1M: number;
  forward_burst_mpps: number;
  burst_ratio: number;
  forward_addr_mpps: number;
  addr_ratio: number;
  path_ns: Record<string, number>;
  path_ns_burst: Record<string, number>;
  lookup_ns_in_path_1M: number;
  lookup_ns_in_path_1M_burst: number;
  entries: number;
  bytes_per_entry: number;
  table_bytes_per_entry: number;
  nbr_lookup_ns: Record<string, number>;
  nbr_bytes_per_entry: number;
  cam_entry_size: number;
  nbr_entry_size: number;
}

/**
 * Instructions a frame in one of fwd_bench's loops, counted by callgrind
 * inside the loop's function only (the packet's allocation and copy
 * included, as in every loop): the same on a fast machine as on a slow
 * one, where the Mpps above move 3x within an hour here.  undefined
 * without valgrind.
 */
function instructionsPerFrame(mode: string, fn: string): number | undefined {
  const out = join(tmpdir(), `vpc-fwd-callgrind-${process.pid}-${mode}`);
  try {
    const res = execFileSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, `--toggle-collect=${fn}`,
      resolve(buildDir, 'fwd_bench'), '0.2', mode], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const frames = (JSON.parse(res.trim().split('\n').pop() ?? '{}') as { frames?: number }).frames ?? 0;
    const total = Number(/^summary:\s+(\d+)/m.exec(readFileSync(out, 'utf8'))?.[1] ?? 0);
    return frames > 0 && total > 0 ? total / frames : undefined;
  } catch {
    return undefined;
  } finally {
    rmSync(out, { force: true });
  }
}

export async function benchForward(): Promise<Record<string, number>> {
  const seconds = process.env.BENCH_SECONDS ?? '1';
  const r = JSON.parse(execFileSync(resolve(buildDir, 'fwd_bench'), [seconds], { encoding: 'utf8' })) as FwdResult;
  console.log('bench/forward: frames from a vmnic to remote MACs (entries with the agent\'s TTL), lookup + VXLAN encapsulation, no I/O');
  console.log(`  baseline (hash lookup + copy)  ${r.baseline_mpps.toFixed(2).padStart(7)} Mpps`);
  console.log(`  core forwarding, one frame at a time (vpc_nic_input)        ${r.forward_mpps.toFixed(2).padStart(7)} Mpps   ratio ${r.ratio.toFixed(2)}`);
  console.log(`  core forwarding, bursts of 32 (vpc_nic_input_burst, hostd)  ${r.forward_burst_mpps.toFixed(2).padStart(7)} Mpps   ratio ${r.burst_ratio.toFixed(2)}`);
  console.log(`  UDP from a VM with an address, as DHCP gives it (its IP header parsed)  ${r.forward_addr_mpps.toFixed(2).padStart(7)} Mpps   ratio ${r.addr_ratio.toFixed(2)}`);
  console.log(`  ARP request -> reply (cached) ${r.arp_mpps.toFixed(2).padStart(7)} Mpps   cost ${r.arp_cost_vs_forward.toFixed(2)}x forwarding a frame (target: >= 1 Mpps, <= 2x)`);
  const instr: Record<string, number> = {};
  if (process.env.BENCH_INSTR !== '0' && ['/usr/bin/valgrind', '/usr/local/bin/valgrind'].some((v) => existsSync(v))) {
    for (const [k, mode, fn] of [['baseline', 'baseline', 'run_baseline'], ['forward', 'forward', 'run_forward'],
      ['addr', 'forward-addr', 'run_forward'], ['arp', 'arp', 'run_arp']] as const) {
      const x = instructionsPerFrame(mode, fn);
      if (x !== undefined) instr[k] = x;
    }
    const b = instr.baseline;
    const rel = (k: string) => (instr[k] !== undefined && b ? ` (${(instr[k] / b).toFixed(1)}x)` : '');
    console.log(`  instructions a frame (callgrind; whatever the machine's speed): baseline ${instr.baseline?.toFixed(0) ?? '-'}, ` +
      `forwarding ${instr.forward?.toFixed(0) ?? '-'}${rel('forward')}, UDP from a VM with an address ${instr.addr?.toFixed(0) ?? '-'}${rel('addr')}, ` +
      `ARP answered ${instr.arp?.toFixed(0) ?? '-'}${rel('arp')}`);
  }
  const l = r.lookup_ns;
  console.log(`  CAM lookup: ${Object.entries(l).map(([k, v]) => `${k} entries ${v.toFixed(1)} ns`).join(', ')}   1M/1k ${((l['1M'] ?? 0) / (l['1k'] ?? 1)).toFixed(1)}x`);
  console.log(`  CAM lookup, 1M entries, prefetched 8-16 lookups ahead: ${r.lookup_ns_prefetched_1M.toFixed(1)} ns   /1k ${(r.lookup_ns_prefetched_1M / (l['1k'] ?? 1)).toFixed(1)}x`);
  const p = r.path_ns;
  const pb = r.path_ns_burst;
  console.log(`  frames to MACs drawn from the table, one at a time: 1k ${(p['1k'] ?? 0).toFixed(1)} ns, 1M ${(p['1M'] ?? 0).toFixed(1)} ns a frame`);
  console.log(`  the same in bursts: 1k ${(pb['1k'] ?? 0).toFixed(1)} ns (32), 1M ${Object.entries(pb).filter(([k]) => k.startsWith('1M_')).map(([k, v]) => `${v.toFixed(1)} ns (${k.slice(3)})`).join(', ')}`);
  console.log(`  CAM lookup at 1M inside the data path (1k lookup + the 1M path's extra): one at a time ${r.lookup_ns_in_path_1M.toFixed(1)} ns  /1k ${(r.lookup_ns_in_path_1M / (l['1k'] ?? 1)).toFixed(1)}x; bursts of 32 ${r.lookup_ns_in_path_1M_burst.toFixed(1)} ns  /1k ${(r.lookup_ns_in_path_1M_burst / (l['1k'] ?? 1)).toFixed(1)}x (target <= 2x)`);
  console.log(`  CAM memory: ${r.bytes_per_entry.toFixed(0)} bytes per entry (${r.entries} entries; an entry ${r.cam_entry_size} bytes)`);
  const n = r.nbr_lookup_ns;
  console.log(`  neighbour lookup: ${Object.entries(n).map(([k, v]) => `${k} entries ${v.toFixed(1)} ns`).join(', ')}   1M/1k ${((n['1M'] ?? 0) / (n['1k'] ?? 1)).toFixed(1)}x`);
  console.log(`  neighbour memory: ${r.nbr_bytes_per_entry.toFixed(0)} bytes per entry (an entry ${r.nbr_entry_size} bytes)`);
  return {
    fwd_mpps: r.forward_mpps, fwd_ratio: r.ratio, arp_mpps: r.arp_mpps, arp_cost_vs_forward: r.arp_cost_vs_forward,
    lookup_ns_prefetched_1M: r.lookup_ns_prefetched_1M, fwd_burst_mpps: r.forward_burst_mpps, fwd_burst_ratio: r.burst_ratio, fwd_addr_mpps: r.forward_addr_mpps, fwd_addr_ratio: r.addr_ratio,
    lookup_ns_in_path_1M: r.lookup_ns_in_path_1M, lookup_ns_in_path_1M_burst: r.lookup_ns_in_path_1M_burst, bytes_per_entry: r.bytes_per_entry, nbr_bytes_per_entry: r.nbr_bytes_per_entry,
    ...Object.fromEntries(Object.entries(instr).map(([k, v]) => [`instr_per_frame_${k}`, v])),
    ...Object.fromEntries(Object.entries(l).map(([k, v]) => [`lookup_ns_${k}`, v])),
    ...Object.fromEntries(Object.entries(n).map(([k, v]) => [`nbr_lookup_ns_${k}`, v])),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await benchForward();
