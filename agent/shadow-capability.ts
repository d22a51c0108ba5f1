/**
 * What the shadow session serves: a capability follows one property of the thing's shadow; a
 * listener serves other shadows or topics over the same connection (plug shadows, jobs). Pure.
 */
import type { Logger } from '../core/logger';
import { parseObject, type Json, type JsonObject } from '../core/shadow/json';

/** A message's payload as a JSON object; undefined, and a warning, when it is not one. */
export function readMessage(payload: Buffer, topic: string, logger: Logger, what: string): JsonObject | undefined {
  try {
    return parseObject(payload);
  } catch (err) {
    logger.warn(`unreadable ${what} message`, { topic, err });
    return undefined;
  }
}

/** What a capability sees of its property. */
export interface PropertyView {
  /** The whole desired value (undefined when absent, i.e. nothing wanted). */
  desired: Json | undefined;
  reported: Json | undefined;
  version: number;
}

export interface ShadowCapability {
  readonly property: string;
  /** The property may have changed (also called again after every re-`get`): must be idempotent. */
  onShadow(view: PropertyView): void;
}

/** Other topics served over this session's connection: the policy lets a device connect once, as its thing. */
export interface ShadowListener {
  /** Topics to subscribe on every connect, together with the session's own. */
  readonly topics: readonly string[];
  /** Subscribed (after every reconnect): ask for the documents again. */
  onConnected(): void;
  onMessage(topic: string, payload: Buffer): void;
}
