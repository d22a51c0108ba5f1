/**
 * The whole system on one machine, over real sockets on 127.0.0.1: the IoT Core stand-in, a local
 * S3, the plugs, the real Lambdas (configured through the stack's own `*FunctionEnvironment`) and
 * one real agent per thing. The composition root: `startSandboxParts` starts the parts in order,
 * each registering its close on the teardown; `startSandbox` adds the client-facing API.
 */
import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { S3Event } from 'aws-lambda';
import { startIotCore, type IotCore } from './iot-core';
import { startLocalS3 } from './local-s3';
import { Narrator } from './narration';
import { ensureWritableDir, resolveSandboxConfig, ROLE_ALIAS, type SandboxConfig, type SandboxOptions } from './sandbox-config';
import { plugShadowName, PLUG_SHADOW_PREFIX } from '../core/plug-relay/contract';
import type { ButtonOutcome } from '../core/button/outcome';
import type { ButtonRuleEvent } from './iot-core';
import { CLASSIC_SHADOW, devicePolicy } from '../core/iot-policy/device-policy';
import { claimSandboxDir, removeSandboxInfo, writeSandboxInfo, type SandboxInfo } from './sandbox-info';
import { plugConfigOf, startSandboxPlugs, type SandboxPlug } from './sandbox-plug';
import type { PlugRelayState } from './simulated-plug';
import { Teardown } from './teardown';
import { waitForEvent, waitForPlug, waitForReported } from './waiters';
import { issueThings, startSandboxAgents } from './wire-agents';
import { wireButtonLambda } from './wire-button';
import { sandboxConfigError } from './errors';
import { wireObjectLambda } from './wire-object';
import { wireRollout } from './wire-rollout';
import { startSandboxDashboard } from './dashboard/dashboard';
import { DEFAULT_EXPIRES_MS, publishRelease } from '../core/release/publish';
import { ensurePublisherKey, signerFromFile } from './publisher-key';
import { watchShadows } from './shadow-observer';

export type { SandboxOptions } from './sandbox-config';

/** Above this many things, device certificates share one key pair (RSA keygen is ~100 ms each). */
const SHARED_KEY_ABOVE = 10;

export interface Sandbox {
  /** Everything a client needs (the `--json` object). */
  info: SandboxInfo;
  /** `event` with a SandboxEvent for every click, plug change, upload, shadow write and device step. */
  events: EventEmitter;
  /** Publishes a signed release into the bucket, as `sandbox upload` does (`release`: instead of the key's next). */
  upload(key: string, body: string | Uint8Array, options?: { release?: number }): Promise<{ key: string; size: number; sha256: string; versionId?: string; release: number }>;
  /** A plug's relay state now (simulated: from its memory; real: queried over the LAN); default the first plug. */
  plugState(plugId?: string): Promise<PlugRelayState>;
  /** Resolves when a plug's state (default the first plug's) satisfies `predicate`. */
  waitForPlug(predicate: (s: PlugRelayState) => boolean, timeoutMs?: number, plugId?: string): Promise<PlugRelayState>;
  /** Resolves with a plug's shadow document (relay mode) once `predicate` holds for it. */
  waitForPlugShadow(plugId: string, predicate: (doc: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** A simulated plug stops answering (its port closed), as an unplugged plug. */
  stopPlug(plugId: string): Promise<void>;
  /** A stopped simulated plug answers again, on the same port. */
  startPlug(plugId: string): Promise<void>;
  /** Stops a thing's in-process agent (its hub is offline). */
  stopAgent(thing: string): Promise<void>;
  /** Starts a thing's agent again; `clock` replaces its clock (e.g. later than the sandbox's). */
  startAgent(thing: string, options?: { clock?: () => number }): Promise<void>;
  /** Runs one button event through the button function as the rule would, on the warm instance or a fresh one. */
  invokeButton(event: ButtonRuleEvent, options?: { freshInstance?: boolean }): Promise<ButtonOutcome>;
  /** Resolves when `thing` has reported `hash` for the sandbox's property (and desired equals it). */
  waitForReported(thing: string, hash: string, timeoutMs?: number): Promise<void>;
  /** The thing's classic shadow document (as GetThingShadow returns it), or undefined if none. */
  shadow(thing: string): Promise<Record<string, unknown> | undefined>;
  /** Adds a thing to a static thing group (as `aws iot add-thing-to-thing-group`): its next upload reaches it. */
  addThingToGroup(group: string, thing: string): void;
  /** Runs every upload event that failed all its retries again; resolves with how many (the stack: `aws sqs start-message-move-task`). */
  redriveFailedUploads(): Promise<number>;
  /** A named shadow of the thing (e.g. `plug-lamp` in relay mode), or undefined if none. */
  namedShadow(thing: string, shadowName: string): Promise<Record<string, unknown> | undefined>;
  close(): Promise<void>;
}

/** A running sandbox's parts, by name: the seams a feature hooks into. */
export type SandboxParts = Awaited<ReturnType<typeof startSandboxParts>>;

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const config = resolveSandboxConfig(options);
  // Before anything listens: a directory that cannot hold the state fails here, naming it.
  ensureWritableDir(config.dir);
  const release = claimSandboxDir(config.dir);
  const narrator = new Narrator();
  const teardown = new Teardown(config.logger);
  teardown.onClosing(() => narrator.silence());
  teardown.add('sandbox directory claim', async () => release());
  try {
    return await sandboxApi(await startSandboxParts(config, narrator, teardown));
  } catch (err) {
    await teardown.close();
    throw err;
  }
}

/** Starts every part in order, each registering its close on `teardown` (the caller closes it on failure). */
export async function startSandboxParts(config: SandboxConfig, narrator: Narrator, teardown: Teardown) {
  const { emit } = narrator;
  const plugs = await startSandboxPlugs(config, emit, teardown);

  // The bucket's notifications go to the object Lambda, as the stack wires them; it needs clients
  // for this bucket and for IoT Core, so it is bound once both run.
  let onObjectEvent: (event: S3Event) => Promise<void> = async () => {};
  const s3 = await startLocalS3({
    dir: join(config.dir, 's3'),
    buckets: [config.bucket],
    logger: config.logger.child({ component: 's3' }),
    onEvent: (event) => onObjectEvent(event),
  });
  teardown.add('local S3', () => s3.close());

  const started: { iot?: IotCore } = {};
  const button = wireButtonLambda(config, plugs.map(plugConfigOf), emit, () => {
    const client = started.iot!.createDataPlaneClient();
    teardown.add('button data-plane client', async () => client.destroy());
    return client;
  });
  const iot = await startIotCore({
    dir: join(config.dir, 'iot'),
    dataDir: join(config.dir, 'iot', 'shadows'),
    things: config.things,
    thingGroups: config.groups.specs,
    ...(config.dataPlaneRatePerSecond !== undefined ? { dataPlaneRatePerSecond: config.dataPlaneRatePerSecond } : {}),
    buttons: [config.buttonSerial],
    roleAlias: ROLE_ALIAS,
    sharedDeviceKey: config.devices > SHARED_KEY_ABOVE,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    onButton: (event) => button.onRule(event),
    // Relay mode: each hub may also use its own plug shadows (`plug-*`), as the stack's policy allows;
    // roll-out mode: its own job topics.
    devicePolicy: devicePolicy({
      shadows: config.plugMode === 'relay' ? [CLASSIC_SHADOW, { kind: 'named-prefix', prefix: PLUG_SHADOW_PREFIX }] : [CLASSIC_SHADOW],
      jobs: config.rollout !== undefined,
    }),
    logger: config.logger.child({ component: 'iot-core' }),
  });
  started.iot = iot;
  teardown.add('IoT Core', () => iot.close());
  const objectLambda = wireObjectLambda(config, s3, iot, emit, teardown);
  onObjectEvent = config.rollout ? wireRollout(config, config.rollout, s3, iot, emit, teardown) : (event) => objectLambda.onEvent(event);

  const observer = watchShadows(config, iot, emit, teardown);
  const things = issueThings(config, iot);
  // Before the agents: they trust its public half.
  const publisher = ensurePublisherKey(config.dir);
  const agents = await startSandboxAgents(config, things, iot, s3, emit, teardown, plugs);
  return { config, narrator, teardown, plugs, button, s3, iot, observer, things, publisher, agents, objectLambda };
}

/** What `--json` prints and `sandbox.json` holds; issues the button's certificate. */
function describeSandbox({ config, plugs, s3, iot, things, publisher }: SandboxParts): SandboxInfo {
  const serial = config.buttonSerial;
  const button = iot.issueButton(serial);
  const first = plugs[0]!;
  return {
    dir: config.dir,
    pid: process.pid,
    mqtt: { host: iot.mqtt.host, port: iot.mqtt.port },
    dataPlane: iot.dataPlane.endpoint,
    credentials: { endpoint: iot.credentialsProvider.endpoint, roleAlias: ROLE_ALIAS },
    s3: { endpoint: s3.endpoint, bucket: config.bucket, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    ca: iot.ca.certPath,
    signingKey: publisher.privatePath,
    trustedKeys: [publisher.publicPath],
    things,
    agents: config.agents ? 'in-process' : 'none',
    button: { clientId: button.clientId, serial, cert: button.certPath, key: button.keyPath },
    plug: { ...first.address, simulated: first.simulated, ...(first.model !== undefined ? { model: first.model } : {}) },
    plugs: plugs.map((p) => ({
      id: p.id,
      ...p.address,
      ...(config.plugMode === 'relay' ? { thing: p.thing, shadowName: plugShadowName(p.id), mode: 'relay' as const } : { thing: null, shadowName: null, mode: 'direct' as const }),
      kind: p.kind,
      ...(p.protocol !== undefined ? { protocol: p.protocol, family: p.family } : {}),
      ...(p.outlet !== undefined ? { outlet: p.outlet } : {}),
      ...(p.model !== undefined ? { model: p.model } : {}),
    })),
    buttonTopic: `iotbutton/${serial}`,
    ...(config.rollout ? { rollout: true as const } : {}),
    tplinkUsername: config.plugCredentials.username,
  };
}

async function sandboxApi(parts: SandboxParts): Promise<Sandbox> {
  const { config, narrator, teardown, plugs, s3, iot, observer } = parts;
  const plugOf = (id?: string): SandboxPlug => {
    const plug = id === undefined ? plugs[0] : plugs.find((p) => p.id === id);
    if (!plug) throw sandboxConfigError(`no plug "${id}" in this sandbox (its plugs: ${plugs.map((p) => p.id).join(', ')})`);
    return plug;
  };
  const info = describeSandbox(parts);
  if (config.dashboardPort !== undefined) {
    const url = await startSandboxDashboard(config.dashboardPort, { info, events: narrator.events, iot, logger: config.logger, plugCredentials: config.plugCredentials }, teardown);
    if (url !== undefined) info.dashboard = url;
  }
  const uploadClient = s3.createClient();
  teardown.add('upload client', async () => uploadClient.destroy());
  const signer = signerFromFile(parts.publisher.privatePath);
  if (config.writeInfoFile) {
    writeSandboxInfo(config.dir, info);
    // First to go on close: `sandbox upload` must stop finding a sandbox that is stopping.
    teardown.add('sandbox.json', async () => removeSandboxInfo(config.dir));
  }
  const { events } = narrator;
  return {
    info,
    events,
    async upload(key, body, options = {}) {
      const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const expires = new Date(Date.now() + DEFAULT_EXPIRES_MS);
      const published = await publishRelease(uploadClient, { bucket: config.bucket, key, body: bytes, signer, expires, ...(options.release !== undefined ? { release: options.release } : {}) }, sha256);
      return { key, size: bytes.length, sha256, ...(published.versionId ? { versionId: published.versionId } : {}), release: published.manifest.release };
    },
    plugState: async (plugId) => plugOf(plugId).state(),
    waitForPlug: async (predicate, timeoutMs = 10_000, plugId) => waitForPlug(events, plugOf(plugId), predicate, timeoutMs),
    async waitForPlugShadow(plugId, predicate, timeoutMs = 10_000) {
      const plug = plugOf(plugId);
      const doc = () => iot.shadows.get(plug.thing, plugShadowName(plug.id));
      const check = () => {
        const d = doc();
        return d !== undefined && predicate(d) ? d : undefined;
      };
      return waitForEvent(events, `the shadow plug-${plug.id} of ${plug.thing}`, check, timeoutMs, async () => check());
    },
    stopPlug: async (plugId) => plugOf(plugId).stop(),
    startPlug: async (plugId) => plugOf(plugId).start(),
    stopAgent: (thing) => stopAgent(parts, thing),
    startAgent: (thing, options = {}) => restartAgent(parts, thing, options.clock),
    invokeButton: (event, options) => parts.button.invoke(event, options),
    waitForReported: (thing, hash, timeoutMs = 30_000) => waitForReported(events, observer, thing, hash, timeoutMs),
    shadow: async (thing) => iot.shadows.get(thing),
    namedShadow: async (thing, shadowName) => iot.shadows.get(thing, shadowName),
    addThingToGroup: (group, thing) => iot.groups.addThing(group, thing),
    redriveFailedUploads: () => parts.objectLambda.redrive(),
    close: () => teardown.close(),
  };
}

function checkAgent(parts: SandboxParts, thing: string): void {
  if (!parts.config.agents || !parts.things.some((t) => t.name === thing)) throw sandboxConfigError(`no in-process agent for thing "${thing}"`);
}

async function stopAgent(parts: SandboxParts, thing: string): Promise<void> {
  checkAgent(parts, thing);
  // A closed agent says nothing on its own: the dashboard and narration learn its hub is offline here.
  if (await parts.agents.stop(thing)) parts.narrator.emit({ type: 'device-online', thing, online: false });
}

/** A new agent for the thing (the old one stopped first), online before this resolves. */
async function restartAgent(parts: SandboxParts, thing: string, clock?: () => number): Promise<void> {
  await stopAgent(parts, thing);
  await parts.agents.start(thing, clock);
}
