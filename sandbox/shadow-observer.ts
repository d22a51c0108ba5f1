/**
 * Follows what each thing's shadow says about one property (`desired.<p>.hash` and
 * `reported.<p>.hash`) from the shadow service's `update/documents` messages, and turns changes
 * into sandbox events: a new desired value (the object Lambda wrote it) and a report that
 * catches up with desired (the device installed and verified it). Pure: fed documents, emits events.
 */
import { isObject, own, type JsonObject } from '../core/shadow/json';
import type { SandboxEvent } from './event-log';

function propertyOf(section: unknown, property: string): { hash?: string; url?: string } | undefined {
  const value = isObject(section) ? own(section, property) : undefined;
  if (!isObject(value)) return undefined;
  const hash = own(value, 'hash');
  const url = own(value, 'url');
  return {
    ...(typeof hash === 'string' ? { hash } : {}),
    ...(typeof url === 'string' ? { url } : {}),
  };
}

/** The `state` of a shadow document, if it has one. */
function stateOf(document: unknown): JsonObject | undefined {
  const state = isObject(document) ? own(document, 'state') : undefined;
  return isObject(state) ? state : undefined;
}

export class ShadowObserver {
  private readonly desired = new Map<string, string | undefined>();
  private readonly reported = new Map<string, string | undefined>();
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
    this.desired.set(thing, propertyOf(own(state, 'desired'), this.property)?.hash);
    this.reported.set(thing, propertyOf(own(state, 'reported'), this.property)?.hash);
  }

  /** An `update/documents` message of the thing's classic shadow. */
  documents(thing: string, message: unknown): void {
    const current = stateOf(isObject(message) ? own(message, 'current') : undefined);
    const desired = propertyOf(own(current, 'desired'), this.property);
    const reported = propertyOf(own(current, 'reported'), this.property);
    const desiredHash = desired?.hash;
    const reportedHash = reported?.hash;
    const desiredChanged = desiredHash !== this.desired.get(thing);
    const reportedChanged = reportedHash !== this.reported.get(thing);
    this.desired.set(thing, desiredHash);
    this.reported.set(thing, reportedHash);
    if (desiredChanged && desiredHash !== undefined) {
      const url = desired?.url ?? '?';
      this.announceHash(url, desiredHash);
      this.emit({ type: 'desired', thing, hash: desiredHash, url });
    }
    if ((reportedChanged || desiredChanged) && reportedHash !== undefined && reportedHash === desiredHash) {
      this.emit({ type: 'reported', thing, hash: reportedHash });
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
    return this.desired.get(thing);
  }

  reportedHash(thing: string): string | undefined {
    return this.reported.get(thing);
  }
}
