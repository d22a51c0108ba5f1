/**
 * The whole system on one machine: the IoT Core stand-in, a local S3 with a bucket, a simulated
 * plug (or a real one), the real button Lambda behind the local `iotbutton/+` rule, the real
 * object Lambda behind the bucket's notifications, and one real device agent per thing, all
 * talking over real sockets on 127.0.0.1. Both Lambdas are configured exactly as the CDK stack
 * configures them: the same `*FunctionEnvironment(settings)` builds their environment, and the
 * handler parses it as at cold start.
 *
 * `startSandbox` is what `npx shadowplug sandbox`, the system tests and the benchmark run.
 */
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { errorMessage } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { parseAddress } from '../core/tplink/address';
import { Plug } from '../core/tplink/plug';
import { buttonFunctionEnvironment, parseButtonConfig, type ButtonSettings } from '../core/button/config';
import type { ClickAction, ClickType } from '../core/button/click';
import { BUTTON_SETTINGS } from '../core/button/settings';
import { attempt } from '../core/settings/schema';
import { objectFunctionEnvironment, parseObjectConfig } from '../core/s3/config';
import { createHandler as createButtonHandler } from '../lambda/button-click';
import { createHandler as createObjectHandler, type Outcome } from '../lambda/object-to-shadow';
import { startAgent, type Agent } from '../agent/agent';
import { startIotCore, type IotCore } from './iot-core';
import { BUTTON_SERIAL_PATTERN } from './iot/certificate-authority';
import { startLocalS3, type LocalS3 } from './local-s3';
import { startSimulatedPlug, type PlugRelayState, type SimulatedPlug } from './simulated-plug';
import { SandboxConfigError, SandboxDirError, SandboxTimeoutError } from './errors';
import type { SandboxEvent } from './event-log';
import { claimSandboxDir, removeSandboxInfo, writeSandboxInfo, type SandboxInfo, type SandboxThingInfo } from './sandbox-info';
import { ShadowObserver } from './shadow-observer';

export const DEFAULT_SANDBOX_DIR = '.sandbox';
export const DEFAULT_BUCKET = 'shadowplug';
/** A serial in the classic IoT button's format (G030 + 12 characters). */
export const DEFAULT_BUTTON_SERIAL = 'G030SANDBOX00001';
export const THING_NAME_PREFIX = 'shadowplug-device-';
export const ROLE_ALIAS = 'shadowplug-device-role-alias';
/** The shadow property the object Lambda writes and the agents follow (the stack's default too). */
export const SHADOW_PROPERTY = 's3';
export const MAX_DEVICES = 1000;
/** Above this many things, device certificates share one key pair (RSA keygen is ~100 ms each). */
const SHARED_KEY_ABOVE = 10;
/** S3 invokes Lambda asynchronously: on error Lambda retries twice (after ~1 and ~2 min; here 1 s and 2 s). */
const ASYNC_RETRY_DELAYS_MS = [1_000, 2_000];

/** How long the agents may take to connect at start (200 TLS handshakes on a slow machine). */
const AGENTS_ONLINE_TIMEOUT_MS = 30_000;

async function waitUntilOnline(agents: Agent[], things: SandboxThingInfo[], timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const offline = things.filter((_t, i) => !agents[i]!.online).map((t) => t.name);
      const names = offline.slice(0, 5).join(', ') + (offline.length > 5 ? ` and ${offline.length - 5} more` : '');
      reject(new SandboxTimeoutError(`the agents of ${names} to connect to the MQTT broker`, timeoutMs));
    }, timeoutMs);
  });
  try {
    // Not events.once: it would reject on the first 'error', and an agent retries those itself.
    const connected = (a: Agent) => (a.online ? undefined : new Promise<void>((resolve) => a.once('connected', () => resolve())));
    await Promise.race([Promise.all(agents.map(connected)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface SandboxOptions {
  /** Where certificates, shadows, objects and device files live (default `.sandbox`). */
  dir?: string;
  /** Number of things, each with its certificate and agent (default 1). */
  devices?: number;
  /** A real plug (`host[:port]`) instead of the simulated one. */
  plug?: string;
  /** Simulate an HS300 strip instead of an HS100 plug. */
  strip?: boolean;
  /** `SINGLE=toggle,DOUBLE=on,LONG=off`, or the same as an object. Missing types toggle. */
  clickActions?: string | Partial<Record<ClickType, ClickAction>>;
  buttonSerial?: string;
  bucket?: string;
  /** Diagnostics of the components (default silent); the event stream is `sandbox.events`. */
  logger?: Logger;
  /** Run one agent per thing in this process (default true); false leaves the things to agents run by hand. */
  agents?: boolean;
  /** Write `<dir>/sandbox.json` for `sandbox upload` (default true). */
  writeInfoFile?: boolean;
}

export interface UploadedObject {
  key: string;
  size: number;
  sha256: string;
  etag?: string;
}

export interface Sandbox {
  /** Everything a client needs (the `--json` object). */
  info: SandboxInfo;
  /** `event` with a SandboxEvent for every click, plug change, upload, shadow write and device step. */
  events: EventEmitter;
  /** Puts an object into the sandbox bucket as any S3 client would. */
  upload(key: string, body: string | Uint8Array): Promise<UploadedObject>;
  /** The plug's relay state now (simulated: from its memory; real: queried over TCP). */
  plugState(): Promise<PlugRelayState>;
  /** Resolves when the plug's state satisfies `predicate`. */
  waitForPlug(predicate: (s: PlugRelayState) => boolean, timeoutMs?: number): Promise<PlugRelayState>;
  /** Resolves when `thing` has reported `hash` for the sandbox's property (and desired equals it). */
  waitForReported(thing: string, hash: string, timeoutMs?: number): Promise<void>;
  /** The thing's classic shadow document (as GetThingShadow returns it), or undefined if none. */
  shadow(thing: string): Promise<Record<string, unknown> | undefined>;
  close(): Promise<void>;
}

/** `--click-actions SINGLE=toggle,DOUBLE=on` → settings, through the button's own setting; problems name the flag. */
export function parseClickActions(text: string): Partial<Record<ClickType, ClickAction>> {
  const { clickActions } = BUTTON_SETTINGS;
  return attempt(
    () => clickActions.parse(text),
    (problem, cause) => {
      throw new SandboxConfigError(`${clickActions.flag.split(' ')[0]}: ${problem}`, { cause });
    },
  );
}

/** Where the agent of `thing` keeps what it has installed (in-process agents and the banner's agent command). */
export function agentStateDir(dir: string, thing: string): string {
  return join(resolve(dir), 'agent-state', thing);
}

export function thingNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${THING_NAME_PREFIX}${i + 1}`);
}

/**
 * Creates `dir` if needed and proves it writable by creating and removing a file in it (mode bits
 * alone would not do: root ignores them, and a read-only mount has none to show).
 * Throws SandboxDirError naming the directory.
 */
function ensureWritableDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new SandboxDirError(dir, `cannot create it (${errorMessage(err)})`, err);
  }
  const probe = join(dir, `.write-check-${process.pid}-${randomUUID()}`);
  try {
    writeFileSync(probe, '');
  } catch (err) {
    throw new SandboxDirError(dir, `cannot write in it (${errorMessage(err)})`, err);
  }
  rmSync(probe, { force: true });
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const dir = resolve(options.dir ?? DEFAULT_SANDBOX_DIR);
  const logger = options.logger ?? silentLogger;
  const devices = options.devices ?? 1;
  if (!Number.isInteger(devices) || devices < 1 || devices > MAX_DEVICES) {
    throw new SandboxConfigError(`devices must be a whole number from 1 to ${MAX_DEVICES}, got ${devices}`);
  }
  const clickActions =
    typeof options.clickActions === 'string' ? parseClickActions(options.clickActions) : (options.clickActions ?? {});
  let realPlug: { host: string; port: number } | undefined;
  if (options.plug !== undefined) {
    try {
      realPlug = parseAddress(options.plug);
    } catch (err) {
      throw new SandboxConfigError(`--plug: ${errorMessage(err)}`);
    }
    if (options.strip) throw new SandboxConfigError('--strip simulates a strip; it cannot be combined with --plug');
  }
  const bucket = options.bucket ?? DEFAULT_BUCKET;
  const serial = options.buttonSerial ?? DEFAULT_BUTTON_SERIAL;
  if (!BUTTON_SERIAL_PATTERN.test(serial)) {
    throw new SandboxConfigError(`--button-serial: "${serial}" must be 1 to 64 letters, digits, "_" or "-"`);
  }
  const things = thingNames(devices);

  // Before anything listens: a directory that cannot hold the state fails here, naming it.
  ensureWritableDir(dir);
  const release = claimSandboxDir(dir);

  const events = new EventEmitter();
  events.setMaxListeners(0);
  let closing = false;
  const emit = (event: SandboxEvent) => {
    if (!closing) events.emit('event', event);
  };
  // Closed in reverse order of start: clients (agents) before the servers they talk to.
  const closers: { name: string; close: () => Promise<void> }[] = [];
  const retryTimers = new Set<NodeJS.Timeout>();
  const closeAll = async () => {
    closing = true;
    for (const t of retryTimers) clearTimeout(t);
    for (const { name, close } of closers.reverse()) {
      try {
        await close();
      } catch (err) {
        logger.warn(`sandbox: closing ${name} failed`, { err });
      }
    }
    closers.length = 0;
    release();
  };

  try {
    // The plug: simulated on 127.0.0.1, or the user's real one on the LAN.
    let simulated: SimulatedPlug | undefined;
    let plugAddress: { host: string; port: number };
    if (realPlug) {
      plugAddress = realPlug;
    } else {
      simulated = await startSimulatedPlug({ strip: Boolean(options.strip), logger: logger.child({ component: 'plug' }) });
      closers.push({ name: 'simulated plug', close: () => simulated!.close() });
      simulated.events.on('change', (state: PlugRelayState) => emit({ type: 'plug', state }));
      plugAddress = { host: simulated.host, port: simulated.port };
    }

    // The bucket's notifications go to the object Lambda, as the stack wires them (set below).
    let onObjectEvent: (event: S3Event) => Promise<void> = async () => {};
    const s3: LocalS3 = await startLocalS3({
      dir: join(dir, 's3'),
      buckets: [bucket],
      logger: logger.child({ component: 's3' }),
      onEvent: (event) => onObjectEvent(event),
    });
    closers.push({ name: 'local S3', close: () => s3.close() });

    // The button rule's action is the button Lambda (set below).
    let onButton: (event: Record<string, unknown> & { requestId: string; receivedAt: number }) => Promise<void> = async () => {};
    const iot: IotCore = await startIotCore({
      dir: join(dir, 'iot'),
      dataDir: join(dir, 'iot', 'shadows'),
      things,
      buttons: [serial],
      roleAlias: ROLE_ALIAS,
      sharedDeviceKey: devices > SHARED_KEY_ABOVE,
      // Temporary credentials the local S3 accepts.
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      onButton: (event) => onButton(event),
      logger: logger.child({ component: 'iot-core' }),
    });
    closers.push({ name: 'IoT Core', close: () => iot.close() });

    // The button Lambda, configured as the stack configures it.
    const buttonSettings: ButtonSettings = {
      defaultTargets: [`${plugAddress.host}:${plugAddress.port}`],
      clickActions,
    };
    const buttonHandler = createButtonHandler({
      config: parseButtonConfig(buttonFunctionEnvironment(buttonSettings)),
      logger: logger.child({ fn: 'button-click' }),
    });
    onButton = async (event) => {
      const s = String(event.serialNumber ?? '?');
      emit({ type: 'click', serial: s, clickType: String(event.clickType ?? '?'), requestId: event.requestId });
      try {
        const outcome = await buttonHandler(event);
        for (const click of outcome.clicks) {
          const switched = click.targets.map((t) => `${t.alias ?? t.target} ${t.before ? 'ON' : 'OFF'}→${t.after ? 'ON' : 'OFF'}`);
          const summary =
            click.status === 'skipped'
              ? `skipped (${click.reason ?? ''}${click.detail ? `: ${click.detail}` : ''})`
              : click.status === 'failed'
                ? `failed: ${click.targets.map((t) => `${t.target}: ${t.error?.message ?? '?'}`).join('; ')}`
                : `${click.action}: ${switched.join(', ')}`;
          emit({ type: 'click-done', serial: click.serial, clickType: click.clickType, summary, elapsedMs: click.elapsedMs });
        }
        if (outcome.status === 'rejected') emit({ type: 'click-failed', serial: s, message: outcome.error?.message ?? 'rejected' });
      } catch (err) {
        emit({ type: 'click-failed', serial: s, message: errorMessage(err) });
      }
    };

    // The object Lambda, configured as the stack configures it, with clients for the local services.
    const objectS3: S3Client = s3.createClient();
    closers.push({ name: 'object Lambda S3 client', close: async () => objectS3.destroy() });
    const iotData = iot.createDataPlaneClient();
    closers.push({ name: 'object Lambda IoT data client', close: async () => iotData.destroy() });
    const objectHandler = createObjectHandler({
      s3: objectS3,
      iotData,
      config: parseObjectConfig(objectFunctionEnvironment({ targetThings: things, iotDataEndpoint: iot.dataPlane.endpoint })),
      logger: logger.child({ fn: 'object-to-shadow' }),
    });
    onObjectEvent = async (event) => {
      for (const r of event.Records) {
        emit({
          type: 'upload',
          bucket: r.s3.bucket.name,
          key: decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')),
          size: r.s3.object.size ?? 0,
          eventName: r.eventName,
        });
      }
      await invokeAsync(event, 0);
    };
    const invokeAsync = async (event: S3Event, attempt: number): Promise<void> => {
      let outcome: Outcome | undefined;
      try {
        outcome = await objectHandler(event);
      } catch (err) {
        if (closing) return;
        const keys = event.Records.map((r) => r.s3.object.key).join(', ');
        const delay = ASYNC_RETRY_DELAYS_MS[attempt];
        emit({ type: 'upload-failed', key: keys, message: `${errorMessage(err)}${delay !== undefined ? ` (retry in ${delay} ms)` : ' (no retries left)'}` });
        if (delay === undefined) return;
        const timer = setTimeout(() => {
          retryTimers.delete(timer);
          void invokeAsync(event, attempt + 1);
        }, delay);
        retryTimers.add(timer);
        return;
      }
      for (const record of outcome.records) {
        if (record.status === 'skipped') {
          emit({ type: 'upload-ignored', key: record.key, message: `${record.reason}: ${record.detail}` });
        } else if (record.status === 'applied' && !record.things.some((t) => t.result === 'written' || t.result === 'cleared')) {
          emit({ type: 'upload-ignored', key: record.key, message: record.things.map((t) => `${t.thing}: ${t.result}`).join(', ') });
        }
      }
    };

    // Desired/reported transitions, seen in the shadow service's own `update/documents` messages,
    // watched in process (no socket, no listener without a client certificate). Subscribed before
    // the seed, so that no update can fall between the two.
    const observer = new ShadowObserver({ property: SHADOW_PROPERTY, emit });
    const stopObserving = iot.observe('$aws/things/+/shadow/update/documents', (topic, payload) => {
      const thing = /^\$aws\/things\/([^/]+)\/shadow\/update\/documents$/.exec(topic)?.[1];
      if (thing === undefined) return;
      try {
        observer.documents(thing, JSON.parse(payload.toString('utf8')));
      } catch (err) {
        logger.warn('shadow observer: unreadable documents message', { topic, err });
      }
    });
    closers.push({ name: 'shadow observer', close: async () => stopObserving() });
    for (const thing of things) {
      const doc = iot.shadows.get(thing);
      if (doc) observer.seed(thing, doc);
    }

    // One agent per thing, installing into <dir>/devices/<thing>/.
    const thingInfos: SandboxThingInfo[] = [];
    for (const thing of things) {
      const cert = iot.issueThing(thing);
      const dest = join(dir, 'devices', thing);
      mkdirSync(dest, { recursive: true });
      thingInfos.push({ name: thing, cert: cert.certPath, key: cert.keyPath, dest });
    }
    // Without agents (`--no-agents`) the things exist for device programs run by hand.
    const agents = await Promise.all(
      (options.agents === false ? [] : thingInfos).map(async (t) => {
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
          stateDir: agentStateDir(dir, t.name),
          logger: logger.child({ component: 'agent', thing: t.name }),
        });
        agent.on('progress', (p: { bytes: number; total?: number }) => emit({ type: 'progress', thing: t.name, bytes: p.bytes, total: p.total }));
        agent.on('installed', (i: { hash: string; path: string }) => emit({ type: 'installed', thing: t.name, hash: i.hash, path: i.path }));
        agent.on('error', (err: unknown) => emit({ type: 'device-error', thing: t.name, message: errorMessage(err) }));
        return agent;
      }),
    );
    closers.push({ name: 'agents', close: async () => void (await Promise.allSettled(agents.map((a) => a.close()))) });
    // Ready means ready: every agent connected and subscribed to its shadow.
    await waitUntilOnline(agents, thingInfos, AGENTS_ONLINE_TIMEOUT_MS);

    const button = iot.issueButton(serial);
    const info: SandboxInfo = {
      dir,
      pid: process.pid,
      mqtt: { host: iot.mqtt.host, port: iot.mqtt.port },
      dataPlane: iot.dataPlane.endpoint,
      credentials: { endpoint: iot.credentialsProvider.endpoint, roleAlias: ROLE_ALIAS },
      s3: { endpoint: s3.endpoint, bucket, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      ca: iot.ca.certPath,
      things: thingInfos,
      agents: options.agents === false ? 'none' : 'in-process',
      button: { clientId: button.clientId, serial, cert: button.certPath, key: button.keyPath },
      plug: { ...plugAddress, simulated: simulated !== undefined, ...(simulated ? { model: simulated.model.toUpperCase() } : {}) },
      buttonTopic: `iotbutton/${serial}`,
    };
    if (options.writeInfoFile !== false) {
      writeSandboxInfo(dir, info);
      // First to go on close: `sandbox upload` must stop finding a sandbox that is stopping.
      closers.push({ name: 'sandbox.json', close: async () => removeSandboxInfo(dir) });
    }

    const uploadClient = s3.createClient();
    closers.push({ name: 'upload client', close: async () => uploadClient.destroy() });
    const realPlugClient = realPlug ? new Plug(realPlug) : undefined;
    if (realPlugClient) closers.push({ name: 'plug client', close: () => realPlugClient.close() });

    const plugState = async (): Promise<PlugRelayState> => {
      if (simulated) return simulated.state();
      const s = await realPlugClient!.status();
      return { model: s.model, alias: s.alias, ...(s.relayState !== undefined ? { relayState: s.relayState } : {}), ...(s.children ? { children: s.children } : {}) };
    };

    const waitForEvent = <T>(what: string, check: () => T | undefined, timeoutMs: number, poll?: () => Promise<T | undefined>): Promise<T> =>
      new Promise<T>((resolvePromise, reject) => {
        const done = (value: T) => {
          cleanup();
          resolvePromise(value);
        };
        const onEvent = () => {
          const v = check();
          if (v !== undefined) done(v);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new SandboxTimeoutError(what, timeoutMs));
        }, timeoutMs);
        const interval = poll
          ? setInterval(() => {
              void poll().then((v) => v !== undefined && done(v), () => {});
            }, 100)
          : undefined;
        const cleanup = () => {
          clearTimeout(timer);
          if (interval) clearInterval(interval);
          events.off('event', onEvent);
        };
        events.on('event', onEvent);
        onEvent();
      });

    return {
      info,
      events,
      async upload(key, body) {
        const bytes = typeof body === 'string' ? Buffer.from(body) : body;
        const out = await uploadClient.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.length }));
        return { key, size: bytes.length, sha256: sha256(bytes), ...(out.ETag ? { etag: out.ETag } : {}) };
      },
      plugState,
      waitForPlug(predicate, timeoutMs = 10_000) {
        if (simulated) {
          return waitForEvent('the plug state', () => (predicate(simulated.state()) ? simulated.state() : undefined), timeoutMs);
        }
        return waitForEvent('the plug state', () => undefined, timeoutMs, async () => {
          const s = await plugState();
          return predicate(s) ? s : undefined;
        });
      },
      waitForReported(thing, hash, timeoutMs = 30_000) {
        return waitForEvent(`${thing} to report sha256 ${hash}`, () => (observer.reportedHash(thing) === hash && observer.desiredHash(thing) === hash ? true : undefined), timeoutMs).then(() => undefined);
      },
      async shadow(thing) {
        return iot.shadows.get(thing);
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
