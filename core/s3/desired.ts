/**
 * The desired value written into a shadow (`state.desired.<property>`), and what one event does to
 * it. The rule: after any set of events for a key, in any order, a value pointing at the key names
 * exactly what a plain GetObject of it returns now, or is cleared when the key does not exist. So an
 * event is a prompt to look at the key's state, never applied as what it says happened; events only
 * order which key a thing follows. `url` and `hash` keep the seed's meaning. Pure.
 */
import type { KeyState } from './object-get';
import type { ObjectChange } from './event';
import type { SignedRelease } from '../release/manifest';
import { isObject } from '../util/guards';

/**
 * S3 delivers at least once and in any order. For the same key `sequencer` orders events (right-pad
 * the shorter hex with zeros, then compare); different keys are ordered by event time (millisecond
 * resolution), an exact tie broken by the key so the outcome never depends on delivery order.
 */
export interface EventOrder {
  /** `s3://bucket/key`: the identity of the key. */
  url: string;
  sequencer: string;
  eventTime: string;
}

/** <0 when a is older, 0 when equal, >0 when a is newer. Hex of any length and case. */
export function compareSequencers(a: string, b: string): number {
  const width = Math.max(a.length, b.length);
  const pa = a.toUpperCase().padEnd(width, '0');
  const pb = b.toUpperCase().padEnd(width, '0');
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/** <0 when a is older than b, 0 for the same event, >0 when a is newer. */
export function compareEvents(a: EventOrder, b: EventOrder): number {
  if (a.url === b.url) return compareSequencers(a.sequencer, b.sequencer);
  const ta = Date.parse(a.eventTime);
  const tb = Date.parse(b.eventTime);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.url < b.url ? -1 : 1;
}

export interface DesiredObject {
  url: string;
  /** SHA-256 of the object's bytes, lowercase hex. */
  hash: string;
  size: number;
  bucket: string;
  key: string;
  /** Present when the bucket is versioned: the exact version hashed (the key's current one). */
  versionId?: string;
  eTag?: string;
  /** Ordering data: the newest event seen for the key. */
  sequencer: string;
  eventTime: string;
  /** The publisher's signed release for this version, copied unchanged (core/release). */
  manifest?: SignedRelease['manifest'];
  signature?: string;
}

export function objectUrl(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

export type ExistingObject = Extract<KeyState, { exists: true }>;

/** The value naming `object`, the key's current object, with the given ordering data. */
export function buildDesired(bucket: string, key: string, object: ExistingObject, hash: string, order: { sequencer: string; eventTime: string }): DesiredObject {
  const value: DesiredObject = { url: objectUrl(bucket, key), hash, size: object.size, bucket, key, sequencer: order.sequencer, eventTime: order.eventTime };
  if (object.versionId !== undefined) value.versionId = object.versionId;
  if (object.eTag !== '') value.eTag = object.eTag;
  if (object.release) Object.assign(value, object.release);
  return value;
}

/** What is there now, read leniently: a seed-era value may hold only url and hash. */
function readCurrent(value: unknown) {
  if (!isObject(value)) return undefined;
  const raw = value;
  const str = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string) : undefined);
  const size = typeof raw.size === 'number' ? raw.size : undefined;
  return { url: str('url'), hash: str('hash'), versionId: str('versionId'), eTag: str('eTag'), size, sequencer: str('sequencer'), eventTime: str('eventTime'), raw };
}

type CurrentValue = NonNullable<ReturnType<typeof readCurrent>>;

/**
 * The value to send so that the stored one ends up exactly `next`: shadow updates merge objects,
 * so a field the old value had and the new one lacks (e.g. `versionId`) is sent as `null`.
 */
export function replacementPatch(current: unknown, next: DesiredObject): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...next };
  const cur = readCurrent(current);
  if (cur) for (const k of Object.keys(cur.raw)) if (!(k in patch)) patch[k] = null;
  return patch;
}

/** Does the stored value carry exactly the object's signed release (or both none)? */
function sameRelease(cur: CurrentValue, object: ExistingObject): boolean {
  return (typeof cur.raw.signature === 'string' ? cur.raw.signature : undefined) === object.release?.signature;
}

/** Does the stored value already name exactly this object (same version; unversioned: same ETag and size)? */
function namesObject(cur: CurrentValue, object: ExistingObject): boolean {
  if (cur.hash === undefined || cur.versionId !== object.versionId) return false;
  return object.versionId !== undefined || (cur.eTag === object.eTag && cur.size === object.size);
}

function orderOf(cur: CurrentValue): EventOrder | undefined {
  if (cur.url === undefined || cur.sequencer === undefined || cur.eventTime === undefined || Number.isNaN(Date.parse(cur.eventTime))) return undefined;
  return { url: cur.url, sequencer: cur.sequencer, eventTime: cur.eventTime };
}

export type KeyDecision =
  | { action: 'write'; value: Record<string, unknown> }
  /** Set the property to null: the key it names no longer exists. */
  | { action: 'clear' }
  /** A write of the key's current object is due, and its SHA-256 is needed for it. */
  | { action: 'hash' }
  | { action: 'skip'; reason: 'unchanged' | 'older' | 'absent' | 'not-pointing' };

/**
 * What `change` does to the stored value `current`, given the key's state now. `hash` is the
 * SHA-256 of `state`'s object once known (without it a write is announced as `hash`).
 */
export function decideForKey(current: unknown, change: ObjectChange, state: KeyState, hash?: string): KeyDecision {
  const cur = readCurrent(current);
  const url = objectUrl(change.bucket, change.key);
  const pointsHere = cur?.url === url;
  if (!state.exists) {
    if (!cur || cur.url === undefined) return { action: 'skip', reason: 'absent' };
    return pointsHere ? { action: 'clear' } : { action: 'skip', reason: 'not-pointing' };
  }
  const event: EventOrder = { url, sequencer: change.sequencer, eventTime: change.eventTime };
  const stored = cur ? orderOf(cur) : undefined;
  if (pointsHere && namesObject(cur, state) && !sameRelease(cur, state)) {
    // Same bytes, but their signed release arrived (its companion's event), changed or was
    // withdrawn: rewrite the value with it, the version's hash being known already.
    hash ??= cur.hash;
  } else if (pointsHere && namesObject(cur, state)) {
    // Same object: only a newer event's ordering data is taken (an update merges, so just those
    // two fields), so that which key a thing follows never depends on delivery order, and a
    // concurrent invocation that decided on the older value meets a version conflict.
    if (stored && compareSequencers(event.sequencer, stored.sequencer) > 0) return { action: 'write', value: { sequencer: event.sequencer, eventTime: event.eventTime } };
    return { action: 'skip', reason: 'unchanged' };
  }
  // Another key holds the thing with a newer event: this key does not take it over.
  // (A value without ordering data, written by hand or by the seed Lambda, yields to any event.)
  if (!pointsHere && stored && compareEvents(event, stored) <= 0) return { action: 'skip', reason: 'older' };
  if (hash === undefined) return { action: 'hash' };
  // The same key keeps the newest ordering data it has seen, whichever event made the write.
  const order = pointsHere && stored && compareSequencers(stored.sequencer, event.sequencer) > 0 ? stored : event;
  return { action: 'write', value: replacementPatch(current, buildDesired(change.bucket, change.key, state, hash, order)) };
}
