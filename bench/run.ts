// SPDX-License-Identifier: BSD-2-Clause
/**
 * npm run bench [-- name ...]: every benchmark, each printing ratios
 * against a baseline measured in the same run (machines here are noisy).
 * `profile` (where the miss path's time goes) runs only when named.
 */
import { benchCli } from './cli.ts';
import { benchConverge } from './converge.ts';
import { benchCtl } from './ctl.ts';
import { benchFirewall } from './firewall.ts';
import { benchForward } from './forward.ts';
import { benchMappings } from './mappings.ts';
import { benchNat } from './nat.ts';
import { benchPeer } from './peer.ts';
import { benchProfile } from './profile.ts';
import { benchPush } from './push.ts';
import { benchRouter } from './router.ts';
import { benchStream } from './stream.ts';
import { benchUpcall } from './upcall.ts';

const all: Record<string, () => Promise<unknown>> = {
  cli: benchCli,
  ctl: benchCtl,
  converge: benchConverge,
  forward: benchForward,
  fw: benchFirewall,
  mappings: benchMappings,
  nat: benchNat,
  upcall: benchUpcall,
  peer: benchPeer,
  push: benchPush,
  router: benchRouter,
  stream: benchStream,
};
const onRequest: Record<string, () => Promise<unknown>> = {
  profile: benchProfile,
};

const chosen = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of chosen.length > 0 ? chosen : Object.keys(all)) {
  const fn = all[name] ?? onRequest[name];
  if (!fn) {
    console.error(`unknown benchmark ${name}; have: ${[...Object.keys(all), ...Object.keys(onRequest)].join(', ')}`);
    process.exit(2);
  }
  await fn();
}
