#!/usr/bin/env node
// Launcher for `npx shadowplug`: registers tsx so the TypeScript CLI runs with no build step.
import { register } from 'tsx/esm/api';

register();
await import('./shadowplug.ts');
