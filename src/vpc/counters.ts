/** Counter arrays of the ABI as objects with camelCase names. */
import * as abi from '../ffi/index.ts';

function names(prefix: string, count: number): string[] {
  const out = new Array<string>(count);
  for (const [k, v] of Object.entries(abi)) {
    if (k.startsWith(prefix) && typeof v === 'number' && v < count && !k.endsWith('_COUNT')) {
      out[v] = k.slice(prefix.length).toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    }
  }
  return out;
}

const SW = names('VPC_SWSTAT_', abi.VPC_SWSTAT_COUNT);
const VCC = names('VPC_VCCSTAT_', abi.VPC_VCCSTAT_COUNT);

export type SwitchStats = Record<string, number>;
export type VccStats = Record<string, number>;

function named(labels: string[], c: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  labels.forEach((name, i) => { if (name) out[name] = c[i] ?? 0; });
  return out;
}

export const switchStatsFrom = (c: number[]): SwitchStats => named(SW, c);
export const vccStatsFrom = (c: number[]): VccStats => named(VCC, c);
