/**
 * The sandbox in a process of its own for `sandbox-soak`, measured apart from the load generator.
 * IPC: {info} when ready; 'stats' → its figures after a full GC; 'close' stops it.
 */
import { startSandbox } from '../sandbox/sandbox';
import { processHealth } from './stats';

/** Its health, and the listeners on the sandbox's event stream and on `process`. */
export type SoakStats = ReturnType<typeof processHealth> & { listeners: number };

function stats(listeners: number): SoakStats {
  const processListeners = process.eventNames().reduce((n, e) => n + process.listenerCount(e), 0);
  return { ...processHealth(), listeners: listeners + processListeners };
}

const dir = process.argv[2]!;
const sandbox = await startSandbox({ dir, dashboard: { port: 0 } });
process.on('message', (message) => {
  if (message === 'stats') process.send!({ stats: stats(sandbox.events.listenerCount('event')) });
  if (message === 'close') void sandbox.close().then(() => process.disconnect());
});
process.send!({ info: sandbox.info });
