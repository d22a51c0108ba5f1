// The agent worker thread from the TypeScript sources (tests, benchmarks): tsx's hooks do not
// reach a new thread by themselves, so it registers them first (agent-threads.ts picks this file).
import { register } from 'tsx/esm/api';

register();
await import('./agent-worker.ts');
