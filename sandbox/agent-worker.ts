/** A worker thread running a share of the sandbox's agents (agent-threads.ts): narrated, their logs forwarded, stopped and started on request. */
import { parentPort, workerData } from 'node:worker_threads';
import { startAgent, type Agent } from '../agent/agent';
import { sharedRequestHandler } from '../agent/s3-clients';
import { ShadowplugError, errorMessage } from '../core/errors';
import { serialise, silentLogger, type LogFields, type Logger } from '../core/logger';
import { mapLimit } from '../core/util/map-limit';
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
/** The thread's agents share one S3 connection pool (each its own S3 client, credentials and signatures). */
const s3Http = sharedRequestHandler();

async function start(spec: AgentSpec, clockOffsetMs?: number): Promise<Agent> {
  const agent = await startAgent({
    ...spec,
    s3RequestHandler: s3Http.handler,
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
    s3Http.close();
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

/**
 * Agents starting at a time in this thread, each the next once one is online with its credentials.
 * All at once, a thousand agents' TLS handshakes (the MQTT broker and the credentials provider,
 * both served by the sandbox's thread) outlast the 10 s handshake timeout on a busy machine and
 * start over again and again (bench fleet, load 11–14: 40–117 s).
 */
const STARTING_AT_ONCE = 16;

try {
  await mapLimit(data.specs, STARTING_AT_ONCE, async (spec) => waitUntilOnline([await start(spec)], [spec.thingName], data.onlineTimeoutMs));
  post({ type: 'ready' });
} catch (err) {
  const e = err instanceof ShadowplugError ? err : undefined;
  post({ type: 'failed', message: errorMessage(err), code: e?.code ?? 'SANDBOX_AGENTS', retryable: e?.retryable ?? false });
}
