// SPDX-License-Identifier: BSD-2-Clause
/** Where the built C parts are; VPC_BUILD=build-san selects the sanitizer build. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const buildDir = resolve(root, 'kmod', process.env.VPC_BUILD ?? 'build');
export const hostdBin = resolve(buildDir, 'vpc-hostd');
export const tsx = resolve(root, 'node_modules/.bin/tsx');

/**
 * A bound for a test's synchronous vpcctl run (spawnSync): it blocks the
 * event loop, so node:test's own timeout cannot end a vpcctl that hangs, and
 * CI would wait for its 90 minutes.  Far above any healthy command, the
 * 100,000-route replace included.
 */
export const VPCCTL_TIMEOUT_MS = 300_000;
