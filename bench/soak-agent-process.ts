/**
 * The agent of the soak benchmark (bench/soak.bench.ts), in a process of its own so that its
 * memory, file descriptors and handles are measured alone. Options come as JSON in SOAK_AGENT;
 * on the message `stats` it answers with what it measures of itself (after a full GC, between
 * plug polls: a poll in flight holds a socket, an fd and a timer that are no leak).
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
let paused = false;
let polling: Promise<unknown> = Promise.resolve();
// The relay's poll callback returns its promise (typed void), so the poll in flight can be awaited.
const counting: Timers = {
  every: (ms, fn) =>
    realTimers.every(ms, () => {
      if (paused) return;
      polls++;
      const run: unknown = fn();
      if (run instanceof Promise) polling = run.catch(() => undefined);
    }),
};

async function measure(): Promise<Omit<SoakStats, 'listeners' | 'installs' | 'errors'>> {
  paused = true;
  await polling;
  await new Promise((r) => setImmediate(r)); // the poll's socket close callbacks
  globalThis.gc?.();
  const resources: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
  const m = process.memoryUsage();
  paused = false;
  return { rssMb: m.rss / 2 ** 20, heapMb: m.heapUsed / 2 ** 20, fds: readdirSync('/proc/self/fd').length, resources, polls };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.env.SOAK_AGENT ?? '{}') as AgentOptions;
  const agent = await startAgent({ ...options, timers: counting });
  let installs = 0;
  let errors = 0;
  agent.on('installed', () => installs++);
  agent.on('error', () => errors++);
  process.on('message', (msg: string) => {
    if (msg === 'stats') {
      void measure().then((m) => {
        const listeners = agent.eventNames().reduce((n, e) => n + agent.listenerCount(e), 0);
        const stats: SoakStats = { ...m, listeners, installs, errors };
        process.send!(stats);
      });
    } else if (msg === 'stop') {
      void agent.close().then(() => process.exit(0));
    }
  });
  process.send!('ready');
}

void main();
