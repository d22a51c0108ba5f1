/** The things' certificates, and one real device agent per thing, narrated; ready means every agent connected. */
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { errorMessage } from '../core/errors';
import { startAgent, type Agent, type AgentOptions } from '../agent/agent';
import { sandboxTimeout } from './errors';
import type { IotCore } from './iot-core';
import type { LocalS3 } from './local-s3';
import type { Emit } from './narration';
import { agentStateDir, SHADOW_PROPERTY, type SandboxConfig } from './sandbox-config';
import { plugConfigOf, type SandboxPlug } from './sandbox-plug';
import { publisherKeyPaths } from './publisher-key';
import type { SandboxThingInfo } from './sandbox-info';
import type { Teardown } from './teardown';
import { startAgentThreads } from './agent-threads';

/** How long the agents may take to connect at start (200 TLS handshakes on a slow machine). */
export const AGENTS_ONLINE_TIMEOUT_MS = 30_000;

/**
 * From this many agents on they run in worker threads (with 1,000 in one thread, the other core
 * idled: docs/performance.md); fewer stay here, where a test can give one a clock or timers.
 */
export const AGENT_THREADS_FROM = 100;
/** More was not measured; each thread holds its own copy of the agent code and SDK (docs/performance.md). */
const AGENT_THREADS_MAX = 4;

/** Worker threads for the agents: none below AGENT_THREADS_FROM, on one core, or with plug timers (functions stay here). */
export function agentThreads(config: SandboxConfig): number {
  if (config.agentThreads !== undefined) return config.agentThreads;
  const cores = availableParallelism();
  if (config.devices < AGENT_THREADS_FROM || config.plugTimers !== undefined || cores < 2) return 0;
  return Math.min(AGENT_THREADS_MAX, cores);
}

/** Issues each thing's certificate and creates `<dir>/devices/<thing>/`, where its agent installs. */
export function issueThings(config: SandboxConfig, iot: IotCore): SandboxThingInfo[] {
  return config.things.map((thing) => {
    const cert = iot.issueThing(thing);
    const dest = join(config.dir, 'devices', thing);
    mkdirSync(dest, { recursive: true });
    return { name: thing, cert: cert.certPath, key: cert.keyPath, dest };
  });
}

/** The sandbox's device agents, one per thing, in this thread or in worker threads (agent-threads.ts). */
export interface SandboxAgents {
  /** Stops the thing's agent (its hub goes offline); false when it was stopped already. */
  stop(thing: string): Promise<boolean>;
  /**
   * Starts a stopped thing's agent again, online before this resolves; `clock` replaces its clock
   * (in a worker thread: as its offset from this thread's clock, taken now).
   */
  start(thing: string, clock?: () => number): Promise<void>;
}

/**
 * Starts one agent per thing (none with `agents: false`) and resolves once all are online; many
 * run in worker threads. Throws SANDBOX_TIMEOUT naming the things whose agents did not connect.
 */
export async function startSandboxAgents(
  config: SandboxConfig,
  things: SandboxThingInfo[],
  iot: IotCore,
  s3: LocalS3,
  emit: Emit,
  teardown: Teardown,
  sandboxPlugs: readonly SandboxPlug[] = [],
): Promise<SandboxAgents> {
  // Without agents, sandbox.ts refuses to stop or start one before asking.
  if (!config.agents) return { stop: async () => false, start: async () => undefined };
  const threads = agentThreads(config);
  if (threads > 0) {
    config.logger.info(`the ${things.length} agents run in ${threads} worker thread${threads === 1 ? '' : 's'}`);
    return startAgentThreads(
      things.map((t) => agentSpec(config, t, iot, s3, sandboxPlugs)),
      { threads, emit, logger: config.logger, onlineTimeoutMs: AGENTS_ONLINE_TIMEOUT_MS },
      teardown,
    );
  }
  const start = (t: SandboxThingInfo, clock?: () => number) => startSandboxAgent(config, t, iot, s3, emit, sandboxPlugs, clock);
  const agents = await Promise.all(things.map((t) => start(t)));
  const byName = new Map(things.map((thing, i) => [thing.name, { thing, agent: agents[i]!, stopped: false }]));
  teardown.add('agents', async () => void (await Promise.allSettled([...byName.values()].map((e) => e.agent.close()))));
  await waitUntilOnline(agents, things.map((t) => t.name), AGENTS_ONLINE_TIMEOUT_MS);
  return {
    async stop(thing) {
      const entry = byName.get(thing)!;
      if (entry.stopped) return false;
      entry.stopped = true;
      await entry.agent.close();
      return true;
    },
    // The new agent takes the old one's place, so teardown closes it.
    async start(thing, clock) {
      const entry = byName.get(thing)!;
      entry.agent = await start(entry.thing, clock);
      entry.stopped = false;
      await connected(entry.agent);
    },
  };
}

/** Resolves once the agent is connected (not events.once: it would reject on an 'error' the agent retries itself). */
export function connected(agent: Agent): Promise<void> {
  return agent.online ? Promise.resolve() : new Promise<void>((resolve) => agent.once('connected', () => resolve()));
}

/** An agent's options that can cross to a worker thread: all but its logger, timers and clock. */
export type AgentSpec = Omit<AgentOptions, 'logger' | 'timers' | 'clock' | 'fs'>;

/** One thing's agent options; in relay mode it drives the plugs whose hub is its thing. */
function agentSpec(config: SandboxConfig, t: SandboxThingInfo, iot: IotCore, s3: LocalS3, sandboxPlugs: readonly SandboxPlug[]): AgentSpec {
  return {
    endpoint: iot.mqtt.host,
    port: iot.mqtt.port,
    cert: t.cert,
    key: t.key,
    caFile: iot.ca.certPath,
    thingName: t.name,
    credentialEndpoint: iot.credentialsProvider.endpoint,
    shadowProperty: SHADOW_PROPERTY,
    s3Endpoint: s3.endpoint,
    region: s3.region,
    dest: t.dest,
    stateDir: agentStateDir(config.dir, t.name),
    plugs: config.plugMode === 'relay' ? sandboxPlugs.map(plugConfigOf) : [],
    tplinkCredentials: config.plugCredentials,
    ...(config.plugPollMs !== undefined ? { plugPollMs: config.plugPollMs } : {}),
    ...(config.rollout ? { jobs: true } : {}),
    // Only the sandbox's publisher key: what `sandbox upload` and the dashboard sign with.
    trustedKey: [publisherKeyPaths(config.dir).publicPath],
  };
}

/** One thing's agent, narrated; `clock` replaces its own (a hub whose clock is ahead). */
async function startSandboxAgent(
  config: SandboxConfig,
  t: SandboxThingInfo,
  iot: IotCore,
  s3: LocalS3,
  emit: Emit,
  sandboxPlugs: readonly SandboxPlug[],
  clock?: () => number,
): Promise<Agent> {
  const agent = await startAgent({
    ...agentSpec(config, t, iot, s3, sandboxPlugs),
    logger: config.logger.child({ component: 'agent', thing: t.name }),
    ...(config.plugTimers !== undefined ? { timers: config.plugTimers } : {}),
    ...(clock ? { clock } : {}),
  });
  narrateAgent(agent, t.name, emit);
  return agent;
}

/** The agent's steps as sandbox events. */
export function narrateAgent(agent: Agent, thing: string, emit: Emit): void {
  agent.on('plug', (e) => {
    if (e.kind === 'polled' && e.requestId === undefined && e.reported.online) emit({ type: 'plug-reported', thing, plugId: e.plugId, power: e.reported.power ?? '?', online: true });
    else if (e.kind === 'offline') emit({ type: 'plug-reported', thing, plugId: e.plugId, power: e.reported.power ?? '?', online: false, message: e.reported.error?.message });
    else if (e.requestId !== undefined) emit({ type: 'plug-request', thing, plugId: e.plugId, requestId: e.requestId, outcome: e.kind, power: e.reported.power ?? '?', message: e.reported.lastRequest?.error?.message });
  });
  agent.on('progress', (p: { bytes: number; total?: number }) => emit({ type: 'progress', thing, bytes: p.bytes, total: p.total }));
  agent.on('installed', (i: { hash: string; path: string }) => emit({ type: 'installed', thing, hash: i.hash, path: i.path }));
  agent.on('error', (err: unknown) => emit({ type: 'device-error', thing, message: errorMessage(err) }));
  agent.on('connected', () => emit({ type: 'device-online', thing, online: true }));
  agent.on('offline', () => emit({ type: 'device-online', thing, online: false }));
}

/** Resolves once every agent is connected and has its first credentials; SANDBOX_TIMEOUT names the others. */
export async function waitUntilOnline(agents: Agent[], things: string[], timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const warm = new Set<Agent>();
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const late = things.filter((_t, i) => !agents[i]!.online || !warm.has(agents[i]!));
      const names = late.slice(0, 5).join(', ') + (late.length > 5 ? ` and ${late.length - 5} more` : '');
      reject(sandboxTimeout(`the agents of ${names} to connect to the MQTT broker and fetch their credentials`, timeoutMs));
    }, timeoutMs);
  });
  try {
    const warmed = (a: Agent) => a.credentialsWarmed().then(() => void warm.add(a));
    await Promise.race([Promise.all(agents.map(async (a) => Promise.all([connected(a), warmed(a)]))), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
