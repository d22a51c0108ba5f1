/**
 * Follows what each thing's shadow says about one property (`desired.<p>` and `reported.<p>`)
 * from the shadow service's `update/documents` messages, watched in process, and narrates a new
 * desired value (the object Lambda wrote it) and a report that catches up with it (installed).
 */
import { isObject, own, type JsonObject } from '../core/shadow/json';
import type { SandboxEvent } from './event-log';
import type { IotCore } from './iot-core';
import type { Emit } from './narration';
import { SHADOW_PROPERTY, type SandboxConfig } from './sandbox-config';
import type { Teardown } from './teardown';

/** What a value names: the same bytes under another key or version are another value. */
interface Named {
  hash?: string;
  url?: string;
  versionId?: string;
}

function propertyOf(section: unknown, property: string): Named | undefined {
  const value = isObject(section) ? own(section, property) : undefined;
  if (!isObject(value)) return undefined;
  const named: Named = {};
  for (const k of ['hash', 'url', 'versionId'] as const) {
    const v = own(value, k);
    if (typeof v === 'string') named[k] = v;
  }
  return named;
}

/** Equal when both name the same object: url, version and hash (not the hash alone). */
function sameValue(a: Named | undefined, b: Named | undefined): boolean {
  return a?.hash === b?.hash && a?.url === b?.url && a?.versionId === b?.versionId;
}

/** Do two `<property>` values (desired, reported) name the same object? Two absent values do. */
export function sameObjectNamed(property: string, desiredSection: unknown, reportedSection: unknown): boolean {
  return sameValue(propertyOf(desiredSection, property), propertyOf(reportedSection, property));
}

/** The `state` of a shadow document, if it has one. */
function stateOf(document: unknown): JsonObject | undefined {
  const state = isObject(document) ? own(document, 'state') : undefined;
  return isObject(state) ? state : undefined;
}

export class ShadowObserver {
  private readonly desired = new Map<string, Named | undefined>();
  private readonly reported = new Map<string, Named | undefined>();
  private readonly announced = new Set<string>();
  private readonly property: string;
  private readonly emit: (event: SandboxEvent) => void;

  constructor(options: { property: string; emit: (event: SandboxEvent) => void }) {
    this.property = options.property;
    this.emit = options.emit;
  }

  /** The state a shadow is in before anything is observed (a restarted sandbox's persisted shadows). */
  seed(thing: string, document: unknown): void {
    const state = stateOf(document);
    this.desired.set(thing, propertyOf(own(state, 'desired'), this.property));
    this.reported.set(thing, propertyOf(own(state, 'reported'), this.property));
  }

  /**
   * An `update/documents` message of the thing's classic shadow. Values are compared by what
   * they name, not by hash alone: a new key (or version) with the same bytes is a new desired
   * value, and the device has caught up only once it reports that one.
   */
  documents(thing: string, message: unknown): void {
    const current = stateOf(isObject(message) ? own(message, 'current') : undefined);
    const desired = propertyOf(own(current, 'desired'), this.property);
    const reported = propertyOf(own(current, 'reported'), this.property);
    const desiredChanged = !sameValue(desired, this.desired.get(thing));
    const reportedChanged = !sameValue(reported, this.reported.get(thing));
    this.desired.set(thing, desired);
    this.reported.set(thing, reported);
    if (desiredChanged && desired?.hash !== undefined) {
      const url = desired.url ?? '?';
      this.announceHash(url, desired.hash);
      this.emit({ type: 'desired', thing, hash: desired.hash, url });
    }
    if ((reportedChanged || desiredChanged) && reported?.hash !== undefined && sameValue(reported, desired)) {
      this.emit({ type: 'reported', thing, hash: reported.hash, url: reported.url ?? '?' });
    }
  }

  /** One `hashed` line per object version, however many shadows it went to (bounded memory). */
  private announceHash(url: string, hash: string): void {
    const key = `${hash} ${url}`;
    if (this.announced.has(key)) return;
    this.announced.add(key);
    if (this.announced.size > 1000) this.announced.delete(this.announced.values().next().value!);
    this.emit({ type: 'hashed', url, hash });
  }

  desiredHash(thing: string): string | undefined {
    return this.desired.get(thing)?.hash;
  }

  reportedHash(thing: string): string | undefined {
    return this.reported.get(thing)?.hash;
  }

  /** The thing reports exactly the value it is asked for (key, version and hash). */
  caughtUp(thing: string): boolean {
    return this.reported.get(thing)?.hash !== undefined && sameValue(this.reported.get(thing), this.desired.get(thing));
  }
}

const DOCUMENTS_TOPIC = /^\$aws\/things\/([^/]+)\/shadow\/update\/documents$/;

/** Subscribed before the seed from the stored shadows, so that no update falls between the two. */
export function watchShadows(config: SandboxConfig, iot: IotCore, emit: Emit, teardown: Teardown): ShadowObserver {
  const observer = new ShadowObserver({ property: SHADOW_PROPERTY, emit });
  const stopObserving = iot.observe('$aws/things/+/shadow/update/documents', (topic, payload) => {
    const thing = DOCUMENTS_TOPIC.exec(topic)?.[1];
    if (thing === undefined) return;
    try {
      observer.documents(thing, JSON.parse(payload.toString('utf8')));
    } catch (err) {
      config.logger.warn('shadow observer: unreadable documents message', { topic, err });
    }
  });
  teardown.add('shadow observer', async () => stopObserving());
  for (const thing of config.things) {
    const doc = iot.shadows.get(thing);
    if (doc) observer.seed(thing, doc);
  }
  return observer;
}
