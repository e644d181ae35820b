#!/usr/bin/env node
// vpc-agent: run the TypeScript entry point through tsx.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/vpc-agent.ts');
