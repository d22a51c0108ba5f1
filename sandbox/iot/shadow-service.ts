/**
 * The Device Shadow service: get/update/delete on the store with the pure document model, answers
 * published through `publish` (the broker). MQTT and the HTTP data-plane API both come through
 * here, so an update over HTTP publishes the same `update/accepted`, `delta` and `documents`.
 */
import {
  applyDelete,
  applyUpdate,
  getShadowDocument,
  parseSimpleRequest,
  parseUpdateRequest,
  peekClientToken,
  rejectionPayload,
  type JsonObject,
} from './shadow-document';
import { ShadowError } from '../../core/shadow/errors';
import { parseShadowRequestTopic, shadowTopics, SHADOW_NAME_PATTERN, THING_NAME_PATTERN, type ShadowOperation } from '../../core/shadow/topics';
import { silentLogger, type Logger } from '../../core/logger';
import type { ShadowStore } from './shadow-store';

export type Publish = (topic: string, payload: JsonObject) => void;

export interface ShadowServiceOptions {
  store: ShadowStore;
  publish: Publish;
  /** Epoch milliseconds (default Date.now); AWS's timestamps are whole seconds of it. */
  clock?: () => number;
  logger?: Logger;
}

export interface ShadowRequestResult {
  ok: boolean;
  /** The accepted document, or the rejection payload `{code, message, timestamp, clientToken?}`. */
  payload: JsonObject;
  error?: ShadowError;
}

export class ShadowService {
  constructor(private readonly options: ShadowServiceOptions) {}

  /**
   * Handle a publish on a shadow request topic (`.../get|update|delete`); false when the topic
   * is not one. Responses go to `.../accepted` or `.../rejected`.
   */
  handleMqtt(topic: string, payload: Buffer): boolean {
    const target = parseShadowRequestTopic(topic);
    if (!target) return false;
    const result = this.run(target.operation, target.thingName, target.shadowName, payload, true);
    const topics = shadowTopics(target.thingName, target.shadowName);
    const base = `${topics.prefix}/${target.operation}`;
    if (!result.ok) this.options.publish(`${base}/rejected`, result.payload);
    else if (target.operation === 'get') this.options.publish(`${base}/accepted`, result.payload);
    // update and delete publish their accepted messages inside run(), for HTTP too.
    return true;
  }

  /** GetThingShadow: the document (no MQTT message). */
  get(thingName: string, shadowName: string | undefined, payload?: Uint8Array | string): ShadowRequestResult {
    return this.run('get', thingName, shadowName, payload, false);
  }

  /** UpdateThingShadow: publishes `update/accepted`, `update/delta` and `update/documents`. */
  update(thingName: string, shadowName: string | undefined, payload: Uint8Array | string): ShadowRequestResult {
    return this.run('update', thingName, shadowName, payload, false);
  }

  /** DeleteThingShadow: publishes `delete/accepted`. */
  delete(thingName: string, shadowName: string | undefined, payload?: Uint8Array | string): ShadowRequestResult {
    return this.run('delete', thingName, shadowName, payload, false);
  }

  listNamedShadows(thingName: string): string[] {
    return this.options.store.namedShadows(thingName);
  }

  private run(
    operation: ShadowOperation,
    thingName: string,
    shadowName: string | undefined,
    payload: Uint8Array | string | undefined,
    viaMqtt: boolean,
  ): ShadowRequestResult {
    const now = Math.floor((this.options.clock ?? Date.now)() / 1000);
    try {
      if (!THING_NAME_PATTERN.test(thingName)) throw new ShadowError(400, `Invalid thing name: ${thingName}`);
      if (shadowName !== undefined && !SHADOW_NAME_PATTERN.test(shadowName)) throw new ShadowError(400, `Invalid shadow name: ${shadowName}`);
      const current = this.options.store.get(thingName, shadowName);
      const name = shadowName ?? thingName;
      const topics = shadowTopics(thingName, shadowName);
      switch (operation) {
        case 'get':
          return { ok: true, payload: getShadowDocument(current, parseSimpleRequest(payload), now, name) };
        case 'update': {
          const outcome = applyUpdate(current, parseUpdateRequest(payload ?? ''), now);
          this.options.store.set(thingName, shadowName, outcome.next);
          this.options.publish(topics.updateAccepted, outcome.accepted);
          if (outcome.delta) this.options.publish(topics.updateDelta, outcome.delta);
          this.options.publish(topics.updateDocuments, outcome.documents);
          return { ok: true, payload: outcome.accepted };
        }
        case 'delete': {
          const { next, accepted } = applyDelete(current, parseSimpleRequest(payload), now, name);
          this.options.store.set(thingName, shadowName, next);
          this.options.publish(topics.deleteAccepted, accepted);
          return { ok: true, payload: accepted };
        }
      }
    } catch (err) {
      const error = err instanceof ShadowError ? err : new ShadowError(500, 'Internal service failure', err);
      const internal = error.status === 500;
      (this.options.logger ?? silentLogger)[internal ? 'error' : 'info']('shadow request rejected', {
        operation,
        thingName,
        ...(shadowName ? { shadowName } : {}),
        via: viaMqtt ? 'mqtt' : 'http',
        status: error.status,
        reason: error.message,
        ...(internal ? { error: err } : {}),
      });
      const token = payload === undefined ? undefined : peekClientToken(payload);
      return { ok: false, payload: rejectionPayload(error, now, token), error };
    }
  }
}
