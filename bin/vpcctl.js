#!/usr/bin/env node
// vpcctl: run the TypeScript entry point through tsx.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/vpcctl.ts');
