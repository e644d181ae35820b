// SPDX-License-Identifier: BSD-2-Clause
/**
 * bench/firewall: the port firewall in the core (kmod/bench/fw_bench.c):
 * established-flow frames through a 100-rule ingress set against the same
 * frames without a firewall (ratio, alternating chunks), new flows a second
 * at 10, 100 and 480 rules, the firewall's cost per packet at 1M flows
 * against 1k (with the flow limits it raised), memory per flow.  No I/O.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { buildDir } from '../test/helpers/paths.ts';

export function benchFirewall(): Promise<void> {
  console.log('bench/firewall: the port firewall in the core, no I/O');
  process.stdout.write(execFileSync(resolve(buildDir, 'fw_bench'), [], { encoding: 'utf8' }));
  return Promise.resolve();
}
