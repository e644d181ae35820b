// SPDX-License-Identifier: BSD-2-Clause
// The mapping file loader's worker (see load-worker.ts), run through tsx as
// bin/*.js run everything else: a worker does not inherit the main
// thread's loader when that was registered programmatically.
import { register } from 'tsx/esm/api';

register();
await import('./load-worker.ts');
