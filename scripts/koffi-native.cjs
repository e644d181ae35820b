// SPDX-License-Identifier: BSD-2-Clause
// What `koffi` is in the build (scripts/build.mjs aliases it here): koffi's
// native module, required directly.  koffi's own index.js first loads its
// installer's helpers (https, tls, zlib, crypto: 15 ms at every start) to
// work out the file name; when the file for this platform is there and of
// the installed version, this is the same module without them (less only
// the deprecated koffi.handle and koffi.callback, which nothing here uses).
// Anything else: koffi's index.js, which knows every platform.
'use strict';

let native;
try {
  const { version } = require('koffi/package.json');
  const m = require(`koffi/build/koffi/${process.platform}_${process.arch}/koffi.node`);
  if (m.version === version) native = m;
} catch {
  // not this layout: koffi finds it
}
module.exports = native ?? require('koffi');
