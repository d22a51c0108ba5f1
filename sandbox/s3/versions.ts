/**
 * What S3 does to one key's versions on a put or a delete, and which version a read gets. Pure.
 *
 * Versioned bucket (what the stack deploys): a put adds a version; a delete without a version id
 * adds a delete marker (the key then reads as missing, its old versions stay readable by id); a
 * delete with a version id removes that version (or marker) for good, and the newest remaining
 * entry becomes current. Unversioned bucket: one entry with version id `null`, replaced by a put
 * and removed by a delete.
 */

export type Versioning = 'Enabled' | 'Unversioned';

/** The version id of the one entry of an unversioned bucket (S3 shows it as `null`). */
export const NULL_VERSION = 'null';

export interface ObjectVersion {
  versionId: string;
  deleteMarker: boolean;
  /** ISO 8601. */
  lastModified: string;
  size: number;
  /** Quoted MD5 hex, as S3 sends it. Empty for a delete marker. */
  etag: string;
  /** The stored bytes (not for a delete marker). */
  blob?: string;
}

export interface KeyHistory {
  key: string;
  /** Newest first; the first is current. */
  versions: ObjectVersion[];
}

export type ReadResult =
  | { type: 'object'; version: ObjectVersion }
  /** No such key, or its current version is a delete marker (`marker` then set): 404 NoSuchKey. */
  | { type: 'no-such-key'; marker?: ObjectVersion }
  /** The version id asked for does not exist: 404 NoSuchVersion. */
  | { type: 'no-such-version' }
  /** The version id asked for is a delete marker: 405 MethodNotAllowed. */
  | { type: 'delete-marker'; marker: ObjectVersion };

/** Which version a GET/HEAD of `versionId` (or of the key, without one) reads. */
export function resolveRead(history: KeyHistory | undefined, versionId?: string): ReadResult {
  if (versionId === undefined) {
    const current = history?.versions[0];
    if (!current) return { type: 'no-such-key' };
    return current.deleteMarker ? { type: 'no-such-key', marker: current } : { type: 'object', version: current };
  }
  const version = history?.versions.find((v) => v.versionId === versionId);
  if (!version) return { type: 'no-such-version' };
  return version.deleteMarker ? { type: 'delete-marker', marker: version } : { type: 'object', version };
}

export interface Change {
  /** Undefined when nothing is left of the key. */
  history: KeyHistory | undefined;
  /** Versions gone for good: their bytes can be removed. */
  dropped: ObjectVersion[];
}

/** A put of `version` (its id is ignored in an unversioned bucket). */
export function applyPut(history: KeyHistory | undefined, key: string, versioning: Versioning, version: ObjectVersion): Change {
  if (versioning === 'Unversioned') {
    return { history: { key, versions: [{ ...version, versionId: NULL_VERSION }] }, dropped: history?.versions ?? [] };
  }
  return { history: { key, versions: [version, ...(history?.versions ?? [])] }, dropped: [] };
}

export interface DeleteOutcome extends Change {
  /** The event S3 sends for it. */
  eventName: 'ObjectRemoved:Delete' | 'ObjectRemoved:DeleteMarkerCreated';
  /** `x-amz-version-id` of the answer: the marker created, or the version removed. */
  versionId?: string;
  /** `x-amz-delete-marker`: a marker was created, or the version removed was one. */
  deleteMarker: boolean;
}

/** A delete of the key (no `versionId`) or of one version. `marker` is the delete marker it may create. */
export function applyDelete(history: KeyHistory | undefined, key: string, versioning: Versioning, versionId: string | undefined, marker: Omit<ObjectVersion, 'deleteMarker' | 'size' | 'etag'>): DeleteOutcome {
  if (versionId !== undefined) {
    const gone = history?.versions.find((v) => v.versionId === versionId);
    const rest = history?.versions.filter((v) => v.versionId !== versionId) ?? [];
    return {
      history: rest.length > 0 ? { key, versions: rest } : undefined,
      dropped: gone ? [gone] : [],
      eventName: 'ObjectRemoved:Delete',
      versionId,
      deleteMarker: gone?.deleteMarker ?? false,
    };
  }
  if (versioning === 'Unversioned') {
    return { history: undefined, dropped: history?.versions ?? [], eventName: 'ObjectRemoved:Delete', deleteMarker: false };
  }
  const created: ObjectVersion = { ...marker, deleteMarker: true, size: 0, etag: '' };
  return {
    history: { key, versions: [created, ...(history?.versions ?? [])] },
    dropped: [],
    eventName: 'ObjectRemoved:DeleteMarkerCreated',
    versionId: created.versionId,
    deleteMarker: true,
  };
}
