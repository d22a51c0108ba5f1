/**
 * The relay plug driver: a target is switched through its plug shadow (`plug-<id>` on its hub's
 * thing) over the IoT data-plane API, never over TCP. The hub's agent applies the request on the
 * LAN and answers in `reported.lastRequest`, which this driver waits for a bounded time.
 *
 * One driver per click (`begin`): the click's requestId goes into `desired`, and a click whose
 * requestId is already in a target's shadow (written or answered by another container) is not
 * acted on again — exactly once across containers, not only within one.
 */
import type * as IotDataPlane from '@aws-sdk/client-iot-data-plane';
import type { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { silentLogger, type Logger } from '../logger';
import { isObject, own, type Json, type JsonObject } from '../shadow/json';
import { plugShadowName, parseReported, desiredRequestId, type PlugReported } from '../plug-relay/contract';
import { formatPlug, plugForTarget, type PlugConfig } from '../plug-relay/config';
import { ShadowplugError } from '../errors';
import { sdkName, sdkStatus } from '../s3/s3-errors';
import type { PlugDriver, TargetState } from './execute';
import { formatTarget, type PlugTarget } from './targets';

export interface RelayDriverOptions {
  plugs: readonly PlugConfig[];
  /** The client, or how to make it at the first click (the Lambda bundle loads the SDK only in relay mode). */
  iotData: IoTDataPlaneClient | (() => Promise<IoTDataPlaneClient>);
  /** How long to wait for the hub to answer a request (default 5 s); then "not yet confirmed". */
  confirmTimeoutMs?: number;
  /** Between reads while waiting (default 100 ms). */
  confirmPollMs?: number;
  /** Re-reads after a 409 (default 3). */
  conflictRetries?: number;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  logger?: Logger;
}

export interface ClickContext {
  requestId?: string;
}

export interface RelayDriver extends PlugDriver {
  /** Starts a click: its requestId (one is made up when the event has none). */
  begin(click: ClickContext): void;
  /** Whether any target's shadow already holds this click's request. */
  alreadyHandled(targets: readonly PlugTarget[]): Promise<boolean>;
}

interface PlugDocument {
  version: number | undefined;
  desired: Json | undefined;
  reported: Partial<PlugReported>;
}

const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The SDK module, loaded once, on demand: the runtime provides it, and direct mode never needs it. */
let sdk: Promise<typeof IotDataPlane> | undefined;
const loadSdk = () => (sdk ??= import('@aws-sdk/client-iot-data-plane'));

const where = (plug: PlugConfig) => `${plug.hub}/${plugShadowName(plug.id)}`;

async function readPlugShadow(client: IoTDataPlaneClient, plug: PlugConfig): Promise<PlugDocument> {
  let payload: Uint8Array | undefined;
  try {
    const { GetThingShadowCommand } = await loadSdk();
    payload = (await client.send(new GetThingShadowCommand({ thingName: plug.hub, shadowName: plugShadowName(plug.id) }))).payload;
  } catch (err) {
    if (sdkName(err) === 'ResourceNotFoundException' || sdkStatus(err) === 404) {
      throw new ShadowplugError(`${where(plug)}: no shadow (has the agent of ${plug.hub} ever reported plug ${plug.id}?)`, { code: 'PLUG_SHADOW_MISSING', retryable: true, cause: err });
    }
    throw new ShadowplugError(`${where(plug)}: GetThingShadow failed: ${sdkName(err) || (err as Error).message}`, { code: 'PLUG_SHADOW_FAILED', retryable: true, cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(payload ?? new Uint8Array()).toString('utf8'));
  } catch (err) {
    throw new ShadowplugError(`${where(plug)}: GetThingShadow payload is not JSON`, { code: 'PLUG_SHADOW_FAILED', retryable: false, cause: err });
  }
  const state: JsonObject = isObject(doc) && isObject(doc.state) ? doc.state : {};
  const version = isObject(doc) && typeof doc.version === 'number' ? doc.version : undefined;
  return { version, desired: own(state, 'desired'), reported: parseReported(own(state, 'reported')) };
}

/** Writes `desired` at `version` (when known); a 409 means another write came first. */
async function writeDesired(client: IoTDataPlaneClient, plug: PlugConfig, desired: JsonObject, version: number | undefined): Promise<'written' | 'conflict'> {
  const body: JsonObject = { state: { desired } };
  if (version !== undefined) body.version = version;
  try {
    const { UpdateThingShadowCommand } = await loadSdk();
    await client.send(new UpdateThingShadowCommand({ thingName: plug.hub, shadowName: plugShadowName(plug.id), payload: Buffer.from(JSON.stringify(body)) }));
    return 'written';
  } catch (err) {
    if (sdkName(err) === 'ConflictException' || sdkStatus(err) === 409) return 'conflict';
    throw new ShadowplugError(`${where(plug)}: UpdateThingShadow failed: ${sdkName(err) || (err as Error).message}`, { code: 'PLUG_SHADOW_FAILED', retryable: true, cause: err });
  }
}

const stateOf = (doc: PlugDocument, on: boolean): TargetState => (doc.reported.alias ? { on, alias: doc.reported.alias } : { on });

/** The plug follows the newer request: its power as requested (or as reported, if it asks none). */
function supersededBy(doc: PlugDocument, newer: string): TargetState {
  const desired = isObject(doc.desired) ? doc.desired.power : undefined;
  const on = desired === 'on' || desired === 'off' ? desired === 'on' : doc.reported.power === 'on';
  return { ...stateOf(doc, on), supersededBy: newer };
}

/** A request another click wrote, not yet answered. */
function pendingRequest(doc: PlugDocument, requestId: string): string | undefined {
  const id = desiredRequestId(doc.desired);
  return id !== undefined && id !== requestId && id !== doc.reported.lastRequest?.requestId ? id : undefined;
}

interface Confirming {
  get: (plug: PlugConfig) => Promise<PlugDocument>;
  requestId: string;
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  timeoutMs: number;
  pollMs: number;
}

/**
 * Waits for the hub's answer to this click's request. A newer request that replaced ours in
 * `desired` before the hub answered it supersedes it: the hub acts on that one only.
 */
async function confirm(c: Confirming, plug: PlugConfig, power: 'on' | 'off'): Promise<TargetState> {
  const deadline = c.clock() + c.timeoutMs;
  for (;;) {
    const doc = await c.get(plug);
    const last = doc.reported.lastRequest;
    if (last?.requestId === c.requestId) {
      if (last.outcome === 'applied') return stateOf(doc, doc.reported.power === 'on');
      throw new ShadowplugError(`${where(plug)}: request ${last.outcome}${last.error ? `: ${last.error.message}` : ''}`, {
        code: last.error?.code || `PLUG_REQUEST_${last.outcome.toUpperCase()}`,
        retryable: false,
      });
    }
    const newer = desiredRequestId(doc.desired);
    if (newer !== undefined && newer !== c.requestId) return supersededBy(doc, newer);
    if (c.clock() >= deadline) return { ...stateOf(doc, power === 'on'), confirmed: false };
    await c.sleep(c.pollMs);
  }
}

function configuredPlug(plugs: readonly PlugConfig[], target: PlugTarget): PlugConfig {
  const plug = plugForTarget(plugs, target);
  if (!plug) throw new ShadowplugError(`${formatTarget(target)} is not a configured plug (configure it as id@hub=${formatTarget(target)})`, { code: 'PLUG_NOT_CONFIGURED', retryable: false });
  return plug;
}

export function createRelayDriver(options: RelayDriverOptions): RelayDriver {
  const clock = options.clock ?? Date.now;
  const sleep = options.sleep ?? sleepMs;
  const logger = options.logger ?? silentLogger;
  const confirmTimeoutMs = options.confirmTimeoutMs ?? 5_000;
  let requestId = '';
  const docs = new Map<string, PlugDocument>();
  let client: Promise<IoTDataPlaneClient> | undefined;
  const iotData = () => (client ??= typeof options.iotData === 'function' ? options.iotData() : Promise.resolve(options.iotData));

  const plugOf = (target: PlugTarget) => configuredPlug(options.plugs, target);
  const ours = (doc: PlugDocument) => desiredRequestId(doc.desired) === requestId || doc.reported.lastRequest?.requestId === requestId;

  const get = async (plug: PlugConfig) => readPlugShadow(await iotData(), plug);
  const pending = (doc: PlugDocument) => pendingRequest(doc, requestId);

  return {
    begin(click) {
      requestId = click.requestId ?? globalThis.crypto.randomUUID();
      docs.clear();
    },
    async alreadyHandled(targets) {
      for (const target of targets) {
        const plug = plugForTarget(options.plugs, target);
        if (!plug) continue;
        const doc = await get(plug).catch(() => undefined);
        if (!doc) continue;
        docs.set(formatPlug(plug), doc);
        if (ours(doc)) return true;
      }
      return false;
    },
    async read(target) {
      const plug = plugOf(target);
      const doc = docs.get(formatPlug(plug)) ?? (await get(plug));
      docs.set(formatPlug(plug), doc);
      if (doc.reported.power === undefined) {
        throw new ShadowplugError(`${where(plug)}: no reported power yet (is the agent of ${plug.hub} running?)`, { code: 'PLUG_STATE_UNKNOWN', retryable: true });
      }
      return stateOf(doc, doc.reported.power === 'on');
    },
    async write(target, on) {
      const plug = plugOf(target);
      const power = on ? 'on' : 'off';
      let doc = docs.get(formatPlug(plug)) ?? (await get(plug));
      for (let attempt = 0; ; attempt++) {
        if (ours(doc)) break; // another container wrote this very click meanwhile
        if ((await writeDesired(await iotData(), plug, { power, requestId, requestedAt: clock() }, doc.version)) === 'written') break;
        const before = pending(doc);
        if (attempt >= (options.conflictRetries ?? 3)) {
          throw new ShadowplugError(`${where(plug)}: still a newer version after ${attempt + 1} writes (409)`, { code: 'PLUG_SHADOW_CONFLICT', retryable: true });
        }
        logger.info('plug shadow version conflict; reading again', { plug: plug.id, version: doc.version });
        doc = await get(plug);
        // Another click's request written since our read is newer than ours: ours is superseded, not retried.
        const newer = pending(doc);
        if (newer !== undefined && newer !== before) {
          docs.delete(formatPlug(plug));
          return supersededBy(doc, newer);
        }
      }
      docs.delete(formatPlug(plug));
      return confirm({ get, requestId, clock, sleep, timeoutMs: confirmTimeoutMs, pollMs: options.confirmPollMs ?? 100 }, plug, power);
    },
  };
}
