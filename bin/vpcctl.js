#!/usr/bin/env node
// vpcctl: the compiled build, or the TypeScript source (see entry.js).
'use strict';

require('./entry.js').run('vpcctl');
