/**
 * The things' certificates and destinations, and one real device agent per thing in this
 * process, its steps narrated. Ready means ready: every agent connected and subscribed.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../core/errors';
import { startAgent, type Agent } from '../agent/agent';
import { sandboxTimeout } from './errors';
import type { IotCore } from './iot-core';
import type { LocalS3 } from './local-s3';
import type { Emit } from './narration';
import { agentStateDir, SHADOW_PROPERTY, type SandboxConfig } from './sandbox-config';
import { plugConfigOf, type SandboxPlug } from './sandbox-plug';
import { publisherKeyPaths } from './publisher-key';
import type { SandboxThingInfo } from './sandbox-info';
import type { Teardown } from './teardown';

/** How long the agents may take to connect at start (200 TLS handshakes on a slow machine). */
export const AGENTS_ONLINE_TIMEOUT_MS = 30_000;

/** Issues each thing's certificate and creates `<dir>/devices/<thing>/`, where its agent installs. */
export function issueThings(config: SandboxConfig, iot: IotCore): SandboxThingInfo[] {
  return config.things.map((thing) => {
    const cert = iot.issueThing(thing);
    const dest = join(config.dir, 'devices', thing);
    mkdirSync(dest, { recursive: true });
    return { name: thing, cert: cert.certPath, key: cert.keyPath, dest };
  });
}

/**
 * Starts one agent per thing (none with `agents: false`, which leaves the things to device
 * programs run by hand) and resolves once all are online. Throws SANDBOX_TIMEOUT naming the
 * things whose agents did not connect in time.
 */
export async function startSandboxAgents(
  config: SandboxConfig,
  things: SandboxThingInfo[],
  iot: IotCore,
  s3: LocalS3,
  emit: Emit,
  teardown: Teardown,
  sandboxPlugs: readonly SandboxPlug[] = [],
): Promise<Agent[]> {
  const agents = await Promise.all((config.agents ? things : []).map((t) => startSandboxAgent(config, t, iot, s3, emit, sandboxPlugs)));
  teardown.add('agents', async () => void (await Promise.allSettled(agents.map((a) => a.close()))));
  await waitUntilOnline(agents, things, AGENTS_ONLINE_TIMEOUT_MS);
  return agents;
}

/**
 * One thing's agent, its steps narrated; in relay mode it drives the plugs whose hub is its thing.
 * `clock` replaces the agent's (a hub whose clock is ahead, to show a click that waited too long).
 */
export async function startSandboxAgent(
  config: SandboxConfig,
  t: SandboxThingInfo,
  iot: IotCore,
  s3: LocalS3,
  emit: Emit,
  sandboxPlugs: readonly SandboxPlug[],
  clock?: () => number,
): Promise<Agent> {
  const plugs = config.plugMode === 'relay' ? sandboxPlugs.map(plugConfigOf) : [];
  const agent = await startAgent({
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
    logger: config.logger.child({ component: 'agent', thing: t.name }),
    plugs,
    tplinkCredentials: config.plugCredentials,
    ...(config.plugPollMs !== undefined ? { plugPollMs: config.plugPollMs } : {}),
    ...(config.plugTimers !== undefined ? { timers: config.plugTimers } : {}),
    ...(clock ? { clock } : {}),
    ...(config.rollout ? { jobs: true } : {}),
    // Only the sandbox's publisher key: what `sandbox upload` and the dashboard sign with.
    trustedKey: [publisherKeyPaths(config.dir).publicPath],
  });
  agent.on('plug', (e) => {
    if (e.kind === 'polled' && e.requestId === undefined && e.reported.online) emit({ type: 'plug-reported', thing: t.name, plugId: e.plugId, power: e.reported.power ?? '?', online: true });
    else if (e.kind === 'offline') emit({ type: 'plug-reported', thing: t.name, plugId: e.plugId, power: e.reported.power ?? '?', online: false, message: e.reported.error?.message });
    else if (e.requestId !== undefined) emit({ type: 'plug-request', thing: t.name, plugId: e.plugId, requestId: e.requestId, outcome: e.kind, power: e.reported.power ?? '?', message: e.reported.lastRequest?.error?.message });
  });
  agent.on('progress', (p: { bytes: number; total?: number }) => emit({ type: 'progress', thing: t.name, bytes: p.bytes, total: p.total }));
  agent.on('installed', (i: { hash: string; path: string }) => emit({ type: 'installed', thing: t.name, hash: i.hash, path: i.path }));
  agent.on('error', (err: unknown) => emit({ type: 'device-error', thing: t.name, message: errorMessage(err) }));
  agent.on('connected', () => emit({ type: 'device-online', thing: t.name, online: true }));
  agent.on('offline', () => emit({ type: 'device-online', thing: t.name, online: false }));
  return agent;
}

async function waitUntilOnline(agents: Agent[], things: SandboxThingInfo[], timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const offline = things.filter((_t, i) => !agents[i]!.online).map((t) => t.name);
      const names = offline.slice(0, 5).join(', ') + (offline.length > 5 ? ` and ${offline.length - 5} more` : '');
      reject(sandboxTimeout(`the agents of ${names} to connect to the MQTT broker`, timeoutMs));
    }, timeoutMs);
  });
  try {
    // Not events.once: it would reject on the first 'error', and an agent retries those itself.
    const connected = (a: Agent) => (a.online ? undefined : new Promise<void>((resolve) => a.once('connected', () => resolve())));
    await Promise.race([Promise.all(agents.map(async (a) => Promise.all([connected(a), a.credentialsWarmed()]))), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
