/**
 * The sandbox in a process of its own for `sandbox-soak`, so what is measured is the sandbox and
 * not the load generator. Parent ↔ child over IPC: the child sends {info} when ready; the parent
 * sends 'stats' and gets the process's figures after a full GC; 'close' stops the sandbox.
 */
import { readdirSync } from 'node:fs';
import { startSandbox } from '../sandbox/sandbox';

export interface SoakStats {
  rssBytes: number;
  heapUsedBytes: number;
  /** Memory outside the JS heap that V8 knows of (Buffers and their backing stores). */
  externalBytes: number;
  fds: number;
  /** Listeners on the sandbox's event stream and on `process`. */
  listeners: number;
  /** Live handles and requests by type (sockets, timers, servers, …). */
  resources: Record<string, number>;
}

function stats(listeners: number): SoakStats {
  (globalThis as { gc?: () => void }).gc?.();
  const resources: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
  const processListeners = process.eventNames().reduce((n, e) => n + process.listenerCount(e), 0);
  return {
    rssBytes: process.memoryUsage.rss(),
    heapUsedBytes: process.memoryUsage().heapUsed,
    externalBytes: process.memoryUsage().external,
    fds: readdirSync('/proc/self/fd').length,
    listeners: listeners + processListeners,
    resources,
  };
}

const dir = process.argv[2]!;
const sandbox = await startSandbox({ dir, dashboard: { port: 0 } });
process.on('message', (message) => {
  if (message === 'stats') process.send!({ stats: stats(sandbox.events.listenerCount('event')) });
  if (message === 'close') void sandbox.close().then(() => process.disconnect());
});
process.send!({ info: sandbox.info });
