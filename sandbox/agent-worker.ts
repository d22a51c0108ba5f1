/** A worker thread running a share of the sandbox's agents (agent-threads.ts): narrated, their logs forwarded, stopped and started on request. */
import { parentPort, workerData } from 'node:worker_threads';
import { startAgent, type Agent } from '../agent/agent';
import { ShadowplugError, errorMessage } from '../core/errors';
import { serialise, silentLogger, type LogFields, type Logger } from '../core/logger';
import type { AgentWorkerData, AgentWorkerMessage, AgentWorkerRequest } from './agent-threads';
import { connected, narrateAgent, waitUntilOnline, type AgentSpec } from './wire-agents';

const port = parentPort!;
const data = workerData as AgentWorkerData;
const post = (m: AgentWorkerMessage): void => port.postMessage(m);

/** A logger whose lines go to the sandbox's logger (fields made cloneable as the logger writes them). */
function forwardingLogger(fields: LogFields): Logger {
  const send = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, more?: LogFields) => {
    const all: LogFields = { ...fields, ...more };
    for (const [k, v] of Object.entries(all)) all[k] = serialise(v);
    try {
      post({ type: 'log', level, message, fields: all });
    } catch {
      post({ type: 'log', level, message, fields: { detail: JSON.stringify(all) } });
    }
  };
  return { debug: send('debug'), info: send('info'), warn: send('warn'), error: send('error'), child: (more) => forwardingLogger({ ...fields, ...more }) };
}

const specs = new Map(data.specs.map((s) => [s.thingName, s]));
const agents = new Map<string, Agent>();

async function start(spec: AgentSpec, clockOffsetMs?: number): Promise<Agent> {
  const agent = await startAgent({
    ...spec,
    logger: data.logs ? forwardingLogger({ component: 'agent', thing: spec.thingName }) : silentLogger,
    ...(clockOffsetMs !== undefined ? { clock: () => Date.now() + clockOffsetMs } : {}),
  });
  narrateAgent(agent, spec.thingName, (event) => post({ type: 'event', event }));
  agents.set(spec.thingName, agent);
  return agent;
}

async function handle(req: AgentWorkerRequest): Promise<unknown> {
  if (req.type === 'close') {
    await Promise.allSettled([...agents.values()].map((a) => a.close()));
    agents.clear();
    return undefined;
  }
  const spec = specs.get(req.thing);
  if (!spec) throw new Error(`no agent for thing "${req.thing}" in this thread`);
  if (req.type === 'stop') {
    const agent = agents.get(req.thing);
    agents.delete(req.thing);
    await agent?.close();
    return agent !== undefined;
  }
  await agents.get(req.thing)?.close();
  await connected(await start(spec, req.clockOffsetMs));
  return undefined;
}

port.on('message', (req: AgentWorkerRequest) => {
  handle(req).then(
    (result) => post({ type: 'reply', id: req.id, result }),
    (err: unknown) => post({ type: 'reply', id: req.id, error: errorMessage(err) }),
  );
});

try {
  const started = await Promise.all(data.specs.map((s) => start(s)));
  await waitUntilOnline(started, data.specs.map((s) => s.thingName), data.onlineTimeoutMs);
  post({ type: 'ready' });
} catch (err) {
  const e = err instanceof ShadowplugError ? err : undefined;
  post({ type: 'failed', message: errorMessage(err), code: e?.code ?? 'SANDBOX_AGENTS', retryable: e?.retryable ?? false });
}
