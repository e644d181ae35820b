// SPDX-License-Identifier: BSD-2-Clause
/**
 * The switch's and the vcc's counter arrays as records with camelCase names
 * (VPC_SWSTAT_DROP_SPOOF is dropSpoof): the names, their order and the
 * record types are generated from vpc.h (src/ffi/abi.generated.ts).
 */
import {
  SWITCH_STATS, SWITCH_STATS_HELP, VCC_STATS, VCC_STATS_HELP, type SwitchStats, type VccStats,
} from '../ffi/index.ts';

export type { SwitchStats, VccStats } from '../ffi/index.ts';

/** Every counter of a switch and of a vcc, with what it means (vpc.h's words). */
export const SWITCH_COUNTERS: Readonly<Record<keyof SwitchStats, string>> = SWITCH_STATS_HELP;
export const VCC_COUNTERS: Readonly<Record<keyof VccStats, string>> = VCC_STATS_HELP;

function named<T>(slots: readonly (keyof T | null)[], c: number[]): T {
  const out = {} as Record<keyof T, number>;
  slots.forEach((name, i) => { if (name !== null) out[name] = c[i] ?? 0; });
  return out as T;
}

export const switchStatsFrom = (c: number[]): SwitchStats => named<SwitchStats>(SWITCH_STATS, c);
export const vccStatsFrom = (c: number[]): VccStats => named<VccStats>(VCC_STATS, c);
