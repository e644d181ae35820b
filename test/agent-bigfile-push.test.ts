// SPDX-License-Identifier: BSD-2-Clause
/**
 * A big mapping file must not stop the agent in push mode either
 * (test/helpers/bigfile-suite.ts): the 200,000 mappings are on the node's
 * VNI, so the reload also pushes --push-cap (65,536) entries, a slice at a
 * time, while misses and /metrics are answered.
 */
import { bigfileSuite } from './helpers/bigfile-suite.ts';

bigfileSuite(true);
