/**
 * Where a signed release travels: the companion object `<key>.shadowplug-release`, holding
 * `{"manifest":{...},"signature":"<base64 DER>"}`. Not object metadata: the manifest names the
 * versionId, which S3 assigns only when the PUT completes, and changing metadata takes a copy, a
 * new version. Release numbers live on `<key>.shadowplug-release-counter`. Neither object is ever
 * routed to a device. Pure.
 */
import type { ObjectChange } from '../s3/event';
import type { KeyState } from '../s3/object-get';
import { isObject } from '../util/guards';
import { malformed, readSignedRelease, type SignedRelease } from './manifest';

export const RELEASE_SUFFIX = '.shadowplug-release';
export const COUNTER_SUFFIX = '.shadowplug-release-counter';
/** Far more than a manifest needs (its longest key and versionId included): a larger companion is not read. */
export const MAX_COMPANION_BYTES = 8 * 1024;

export const companionKey = (key: string): string => key + RELEASE_SUFFIX;
export const counterKey = (key: string): string => key + COUNTER_SUFFIX;

/** Why `key` cannot be published (the object Lambda takes it for a companion or a counter, never a file), or undefined. */
export function reservedKeyReason(key: string): string | undefined {
  const suffix = [RELEASE_SUFFIX, COUNTER_SUFFIX].find((s) => key.endsWith(s));
  return suffix && `names ending in ${suffix} are the release bookkeeping of the key before it, never delivered as files`;
}

/** A change to a key, and whether its companion's event (not the key's own) prompted it. */
export type PromptedChange = ObjectChange & { viaCompanion?: true };

/**
 * What an event is about: a released object (itself, or prompted by its companion) or the
 * release counter (nothing to do). A companion's event carries no ordering for the released key
 * (sequencers order one key only), so it goes on with sequencer '' — older than any of the key's
 * own — and the stored ordering data is kept.
 */
export function releaseTarget(change: ObjectChange): PromptedChange | 'counter' {
  if (change.key.endsWith(COUNTER_SUFFIX)) return 'counter';
  if (!change.key.endsWith(RELEASE_SUFFIX) || change.key === RELEASE_SUFFIX) return change;
  const { size: _size, eTag: _eTag, versionId: _versionId, ...rest } = change;
  return { ...rest, kind: 'created', key: change.key.slice(0, -RELEASE_SUFFIX.length), sequencer: '', viaCompanion: true };
}

/**
 * Whether the companion's event delivers the key's current version rather than this one: a
 * publish under way, or a signed release naming this version met by the object's own event. Both
 * events come, in either order; delivering on both would hash the object twice and, for a fleet,
 * fan out and notify the owner twice for one upload. (In an unversioned bucket a companion names
 * no version, so a later upload of the same size could be taken for it: its own event delivers.)
 */
export function leftToCompanion(change: PromptedChange, state: Extract<KeyState, { exists: true }>): boolean {
  return state.releasePending === true || (state.release?.manifest.versionId !== undefined && change.viaCompanion !== true);
}

/** The companion's text as a signed release (its manifest's form checked, not its signature: the device does that). */
export function parseCompanion(text: string): SignedRelease {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw malformed(`companion is not JSON: ${(err as Error).message}`);
  }
  if (!isObject(value)) throw malformed('companion is not an object');
  const release = readSignedRelease(value);
  if (!release) throw malformed('companion has no manifest and signature');
  return release;
}

/** The release when it names exactly the key's current object (its version and size), else undefined. */
export function releaseForState(release: SignedRelease, bucket: string, key: string, state: Extract<KeyState, { exists: true }>): SignedRelease | undefined {
  const m = release.manifest;
  return m.bucket === bucket && m.key === key && m.versionId === state.versionId && m.size === state.size ? release : undefined;
}
