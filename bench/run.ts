/**
 * npm run bench [-- name ...]: every benchmark, each printing ratios
 * against a baseline measured in the same run (machines here are noisy).
 */
import { benchCtl } from './ctl.ts';
import { benchForward } from './forward.ts';
import { benchMappings } from './mappings.ts';
import { benchUpcall } from './upcall.ts';

const all: Record<string, () => Promise<unknown>> = {
  ctl: benchCtl,
  forward: benchForward,
  mappings: benchMappings,
  upcall: benchUpcall,
};

const chosen = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of chosen.length > 0 ? chosen : Object.keys(all)) {
  const fn = all[name];
  if (!fn) {
    console.error(`unknown benchmark ${name}; have: ${Object.keys(all).join(', ')}`);
    process.exit(2);
  }
  await fn();
}
