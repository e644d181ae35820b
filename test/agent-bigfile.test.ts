// SPDX-License-Identifier: BSD-2-Clause
/** A big mapping file must not stop the agent (test/helpers/bigfile-suite.ts), push off. */
import { bigfileSuite } from './helpers/bigfile-suite.ts';

bigfileSuite(false);
