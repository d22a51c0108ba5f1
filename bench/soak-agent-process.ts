/**
 * The agent of the soak benchmark (bench/soak.bench.ts), in a process of its own so that its
 * memory, file descriptors and handles are measured alone. Options come as JSON in SOAK_AGENT;
 * on the message `stats` it answers with what it measures of itself (after a full GC).
 */
import { readdirSync } from 'node:fs';
import { startAgent, type AgentOptions } from '../agent/agent';
import { realTimers, type Timers } from '../agent/plug-relay';

export interface SoakStats {
  rssMb: number;
  heapMb: number;
  fds: number;
  /** Active handles and requests by kind (Timeout, TCPSocketWrap, FSReqCallback...). */
  resources: Record<string, number>;
  /** Listeners on the agent's own emitter. */
  listeners: number;
  polls: number;
  installs: number;
  errors: number;
}

let polls = 0;
const counting: Timers = { every: (ms, fn) => realTimers.every(ms, () => (polls++, fn())) };

async function main(): Promise<void> {
  const options = JSON.parse(process.env.SOAK_AGENT ?? '{}') as AgentOptions;
  const agent = await startAgent({ ...options, timers: counting });
  let installs = 0;
  let errors = 0;
  agent.on('installed', () => installs++);
  agent.on('error', () => errors++);
  process.on('message', (msg: string) => {
    if (msg === 'stats') {
      globalThis.gc?.();
      const resources: Record<string, number> = {};
      for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
      const listeners = agent.eventNames().reduce((n, e) => n + agent.listenerCount(e), 0);
      const m = process.memoryUsage();
      const stats: SoakStats = { rssMb: m.rss / 2 ** 20, heapMb: m.heapUsed / 2 ** 20, fds: readdirSync('/proc/self/fd').length, resources, listeners, polls, installs, errors };
      process.send!(stats);
    } else if (msg === 'stop') {
      void agent.close().then(() => process.exit(0));
    }
  });
  process.send!('ready');
}

void main();
