/**
 * The soak benchmark's agent, in a process of its own so its resources are measured alone. Options
 * as JSON in SOAK_AGENT; 'stats' → its own figures after a full GC, between plug polls (a poll in
 * flight holds a socket, an fd and a timer that are no leak).
 */
import { startAgent, type AgentOptions } from '../agent/agent';
import { realTimers, type Timers } from '../agent/plug-relay';
import { processHealth } from './stats';

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
  const h = processHealth();
  paused = false;
  return { rssMb: h.rssBytes / 2 ** 20, heapMb: h.heapUsedBytes / 2 ** 20, fds: h.fds, resources: h.resources, polls };
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
