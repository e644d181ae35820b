#!/usr/bin/env node
// SPDX-License-Identifier: BSD-2-Clause
// vpcctl: the compiled build, or the TypeScript source (see entry.js).
'use strict';

require('./entry.js').run('vpcctl');
