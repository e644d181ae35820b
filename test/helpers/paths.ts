// SPDX-License-Identifier: BSD-2-Clause
/** Where the built C parts are; VPC_BUILD=build-san selects the sanitizer build. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const buildDir = resolve(root, 'kmod', process.env.VPC_BUILD ?? 'build');
export const hostdBin = resolve(buildDir, 'vpc-hostd');
export const tsx = resolve(root, 'node_modules/.bin/tsx');
