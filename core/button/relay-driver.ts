/**
 * The relay plug driver: a target is switched through its plug shadow (`plug-<id>` on its hub's
 * thing) over the IoT data-plane API; the hub's agent applies the request on the LAN and answers
 * in `reported.lastRequest`, awaited for a bounded time. The click's requestId goes into
 * `desired`, and a click whose requestId is already in a target's shadow (another container wrote
 * or answered it) is not acted on again: exactly once across containers, not only within one.
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
  /** The client, or how to make it at the first click (the Lambda loads the SDK only in relay mode). */
  iotData: IoTDataPlaneClient | (() => Promise<IoTDataPlaneClient>);
  /** How long to wait for the hub's answer (default 5 s); then "not yet confirmed". */
  confirmTimeoutMs?: number;
  /** Between reads while waiting (default 100 ms). */
  confirmPollMs?: number;
  logger?: Logger;
}

export interface RelayDriver extends PlugDriver {
  /** Starts a click: its requestId (one is made up when the event has none). */
  begin(click: { requestId?: string }): void;
  alreadyHandled(targets: readonly PlugTarget[]): Promise<boolean>;
}

interface PlugDocument {
  version: number | undefined;
  desired: Json | undefined;
  reported: Partial<PlugReported>;
}

/** Re-reads after a 409 before the write fails. */
const CONFLICT_RETRIES = 3;

/** The SDK module, loaded once, on demand: the runtime provides it, and direct mode never needs it. */
let sdk: Promise<typeof IotDataPlane> | undefined;
const loadSdk = () => (sdk ??= import('@aws-sdk/client-iot-data-plane'));

const where = (plug: PlugConfig) => `${plug.hub}/${plugShadowName(plug.id)}`;
const shadowFailed = (plug: PlugConfig, problem: string, retryable: boolean, cause: unknown) =>
  new ShadowplugError(`${where(plug)}: ${problem}`, { code: 'PLUG_SHADOW_FAILED', retryable, cause });
const sdkFailed = (plug: PlugConfig, operation: string, err: unknown) => shadowFailed(plug, `${operation} failed: ${sdkName(err) || (err as Error).message}`, true, err);

async function readPlugShadow(client: IoTDataPlaneClient, plug: PlugConfig): Promise<PlugDocument> {
  let payload: Uint8Array | undefined;
  try {
    const { GetThingShadowCommand } = await loadSdk();
    payload = (await client.send(new GetThingShadowCommand({ thingName: plug.hub, shadowName: plugShadowName(plug.id) }))).payload;
  } catch (err) {
    if (sdkName(err) === 'ResourceNotFoundException' || sdkStatus(err) === 404) {
      throw new ShadowplugError(`${where(plug)}: no shadow (has the agent of ${plug.hub} ever reported plug ${plug.id}?)`, { code: 'PLUG_SHADOW_MISSING', retryable: true, cause: err });
    }
    throw sdkFailed(plug, 'GetThingShadow', err);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(payload ?? new Uint8Array()).toString('utf8'));
  } catch (err) {
    throw shadowFailed(plug, 'GetThingShadow payload is not JSON', false, err);
  }
  const state: JsonObject = isObject(doc) && isObject(doc.state) ? doc.state : {};
  const version = isObject(doc) && typeof doc.version === 'number' ? doc.version : undefined;
  return { version, desired: own(state, 'desired'), reported: parseReported(own(state, 'reported')) };
}

/** Writes `desired` at `version` (when known); a 409 means another write came first. */
async function writeDesired(client: IoTDataPlaneClient, plug: PlugConfig, desired: JsonObject, version: number | undefined): Promise<'written' | 'conflict'> {
  try {
    const { UpdateThingShadowCommand } = await loadSdk();
    const body = { state: { desired }, ...(version === undefined ? {} : { version }) };
    await client.send(new UpdateThingShadowCommand({ thingName: plug.hub, shadowName: plugShadowName(plug.id), payload: Buffer.from(JSON.stringify(body)) }));
    return 'written';
  } catch (err) {
    if (sdkName(err) === 'ConflictException' || sdkStatus(err) === 409) return 'conflict';
    throw sdkFailed(plug, 'UpdateThingShadow', err);
  }
}

const stateOf = (doc: PlugDocument, on: boolean): TargetState => (doc.reported.alias ? { on, alias: doc.reported.alias } : { on });

/** The plug follows the newer request: its power as requested (or as reported, if it asks none). */
function supersededBy(doc: PlugDocument, newer: string): TargetState {
  const desired = isObject(doc.desired) ? doc.desired.power : undefined;
  const on = desired === 'on' || desired === 'off' ? desired === 'on' : doc.reported.power === 'on';
  return { ...stateOf(doc, on), supersededBy: newer };
}

export function createRelayDriver(options: RelayDriverOptions): RelayDriver {
  const logger = options.logger ?? silentLogger;
  let requestId = '';
  /** This click's documents, read before its writes. */
  const docs = new Map<string, PlugDocument>();
  let client: Promise<IoTDataPlaneClient> | undefined;
  const iotData = () => (client ??= typeof options.iotData === 'function' ? options.iotData() : Promise.resolve(options.iotData));
  const get = async (plug: PlugConfig) => readPlugShadow(await iotData(), plug);
  const ours = (doc: PlugDocument) => desiredRequestId(doc.desired) === requestId || doc.reported.lastRequest?.requestId === requestId;
  /** A request another click wrote, not yet answered. */
  const pending = (doc: PlugDocument) => {
    const id = desiredRequestId(doc.desired);
    return id !== undefined && id !== requestId && id !== doc.reported.lastRequest?.requestId ? id : undefined;
  };
  const plugOf = (target: PlugTarget): PlugConfig => {
    const plug = plugForTarget(options.plugs, target);
    if (!plug) throw new ShadowplugError(`${formatTarget(target)} is not a configured plug (configure it as id@hub=${formatTarget(target)})`, { code: 'PLUG_NOT_CONFIGURED', retryable: false });
    return plug;
  };

  /** Waits for the hub's answer to `id`; a newer request that replaced it in `desired` first supersedes it (the hub acts on that one only). */
  async function confirm(plug: PlugConfig, on: boolean, id: string): Promise<TargetState> {
    const deadline = Date.now() + (options.confirmTimeoutMs ?? 5_000);
    for (;;) {
      const doc = await get(plug);
      const last = doc.reported.lastRequest;
      if (last?.requestId === id) {
        if (last.outcome === 'applied') return stateOf(doc, doc.reported.power === 'on');
        throw new ShadowplugError(`${where(plug)}: request ${last.outcome}${last.error ? `: ${last.error.message}` : ''}`, {
          code: last.error?.code || `PLUG_REQUEST_${last.outcome.toUpperCase()}`,
          retryable: false,
        });
      }
      const newer = desiredRequestId(doc.desired);
      if (newer !== undefined && newer !== id) return supersededBy(doc, newer);
      if (Date.now() >= deadline) return { ...stateOf(doc, on), confirmed: false };
      await new Promise((resolve) => setTimeout(resolve, options.confirmPollMs ?? 100));
    }
  }

  return {
    begin(click) {
      requestId = click.requestId ?? globalThis.crypto.randomUUID();
      docs.clear();
    },
    async alreadyHandled(targets) {
      for (const target of targets) {
        const plug = plugForTarget(options.plugs, target);
        const doc = plug && (await get(plug).catch(() => undefined));
        if (!plug || !doc) continue;
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
      let doc = docs.get(formatPlug(plug)) ?? (await get(plug));
      docs.delete(formatPlug(plug));
      // Done when written, or when another container wrote this very click meanwhile.
      for (let attempt = 0; !ours(doc); attempt++) {
        if ((await writeDesired(await iotData(), plug, { power: on ? 'on' : 'off', requestId, requestedAt: Date.now() }, doc.version)) === 'written') break;
        if (attempt >= CONFLICT_RETRIES) {
          throw new ShadowplugError(`${where(plug)}: still a newer version after ${attempt + 1} writes (409)`, { code: 'PLUG_SHADOW_CONFLICT', retryable: true });
        }
        logger.info('plug shadow version conflict; reading again', { plug: plug.id, version: doc.version });
        const before = pending(doc);
        doc = await get(plug);
        // Another click's request written since our read is newer than ours: ours is superseded, not retried.
        const newer = pending(doc);
        if (newer !== undefined && newer !== before) return supersededBy(doc, newer);
      }
      return confirm(plug, on, requestId);
    },
  };
}
