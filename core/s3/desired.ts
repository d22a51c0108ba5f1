/**
 * The desired value written into a shadow (`state.desired.<property>`), and the decision whether
 * an event may replace the value that is there. Pure.
 *
 * `url` and `hash` keep the seed article's names and meaning (`s3://bucket/key`, SHA-256 hex),
 * so a device that knows only those two still works; the rest lets a device read the exact
 * version and lets this Lambda order events.
 */
import type { ObjectChange } from './event';
import { compareEvents, compareSequencers } from './ordering';

export interface DesiredObject {
  url: string;
  /** SHA-256 of the object's bytes, lowercase hex. */
  hash: string;
  size: number;
  bucket: string;
  key: string;
  /** Present when the bucket is versioned: the exact version hashed. */
  versionId?: string;
  eTag?: string;
  /** Ordering data (see ordering.ts). */
  sequencer: string;
  eventTime: string;
}

export function objectUrl(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

export function buildDesired(change: ObjectChange, hash: string, size: number): DesiredObject {
  const value: DesiredObject = {
    url: objectUrl(change.bucket, change.key),
    hash,
    size,
    bucket: change.bucket,
    key: change.key,
    sequencer: change.sequencer,
    eventTime: change.eventTime,
  };
  if (change.versionId !== undefined) value.versionId = change.versionId;
  if (change.eTag !== undefined) value.eTag = change.eTag;
  return value;
}

/** What is there now, read leniently: a seed-era value may hold only url and hash. */
interface CurrentValue {
  url?: string;
  hash?: string;
  versionId?: string;
  sequencer?: string;
  eventTime?: string;
  raw: Record<string, unknown>;
}

function readCurrent(value: unknown): CurrentValue | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const raw = value as Record<string, unknown>;
  const str = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string) : undefined);
  return { url: str('url'), hash: str('hash'), versionId: str('versionId'), sequencer: str('sequencer'), eventTime: str('eventTime'), raw };
}

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

export type CreateDecision =
  | { action: 'write'; value: Record<string, unknown> }
  | { action: 'skip'; reason: 'unchanged' | 'older' };

/** May `next` replace `current`? Same content → no update; an older event never wins. */
export function decideCreate(current: unknown, next: DesiredObject): CreateDecision {
  const cur = readCurrent(current);
  if (!cur || cur.url === undefined) return { action: 'write', value: replacementPatch(current, next) };
  // Same bytes at the same place: the device has nothing to do, so send nothing. (An in-between
  // version can then not sneak in: unversioned, its eTag no longer matches; versioned, versionId differs.)
  if (cur.url === next.url && cur.hash === next.hash && cur.versionId === next.versionId) return { action: 'skip', reason: 'unchanged' };
  if (cur.sequencer !== undefined && cur.eventTime !== undefined && !Number.isNaN(Date.parse(cur.eventTime))) {
    const order = compareEvents(next, { url: cur.url, sequencer: cur.sequencer, eventTime: cur.eventTime });
    if (order < 0) return { action: 'skip', reason: 'older' };
    if (order === 0) return { action: 'skip', reason: 'unchanged' };
  }
  // A value without ordering data (written by hand or by the seed Lambda) yields to any event.
  return { action: 'write', value: replacementPatch(current, next) };
}

export type RemoveDecision = { action: 'clear' } | { action: 'skip'; reason: 'absent' | 'not-pointing' | 'older' };

/** Clear the desired value only when the removed key (and version) is the one it points at. */
export function decideRemove(current: unknown, removal: ObjectChange): RemoveDecision {
  const cur = readCurrent(current);
  if (!cur || cur.url === undefined) return { action: 'skip', reason: 'absent' };
  if (cur.url !== objectUrl(removal.bucket, removal.key)) return { action: 'skip', reason: 'not-pointing' };
  // Deleting one specific version (not a delete marker) matters only if it is ours.
  if (removal.eventName === 'ObjectRemoved:Delete' && removal.versionId !== undefined && cur.versionId !== undefined && removal.versionId !== cur.versionId) {
    return { action: 'skip', reason: 'not-pointing' };
  }
  if (cur.sequencer !== undefined && compareSequencers(removal.sequencer, cur.sequencer) < 0) return { action: 'skip', reason: 'older' };
  return { action: 'clear' };
}
