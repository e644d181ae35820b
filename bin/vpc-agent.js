#!/usr/bin/env node
// vpc-agent: the compiled build, or the TypeScript source (see entry.js).
'use strict';

require('./entry.js').run('vpc-agent');
