/**
 * The Device Shadow document and AWS's update/get/delete semantics, pure (no I/O, no clock: the
 * caller passes `now` in epoch seconds, as AWS's timestamps are).
 *
 * - Update merges `desired`/`reported` key by key; `null` deletes a key, `"desired": null` the
 *   section, `"state": null` both. Arrays are values: replaced and compared whole.
 * - Every written leaf gets `metadata.<section>.<path>.timestamp`; arrays get one per element.
 * - Delta = each leaf of desired that differs from reported, paths kept; keys only in reported never.
 * - `version` grows by one per accepted update; a request `version` must equal the current one
 *   (else 409). Delete keeps the counter, so a shadow created again continues from it.
 * - Limits: 8 KB of state (desired + reported, metadata excluded) → 413; more than 6 levels of
 *   nesting in a section → 400; clientToken at most 64 bytes.
 */
import { ShadowError, SHADOW_MESSAGES as M } from '../../core/shadow/errors';
import { clone, deepEqual, isObject, mergeSection, own, put, type Json, type JsonObject } from '../../core/shadow/json';

export type { Json, JsonObject } from '../../core/shadow/json';

export interface ShadowSections {
  desired?: JsonObject;
  reported?: JsonObject;
}

/** What the service keeps per shadow. */
export interface StoredShadow {
  state: ShadowSections;
  metadata: ShadowSections;
  version: number;
  /** False after a delete: get and delete answer 404, and the next update continues from `version`. */
  exists: boolean;
}

export interface UpdateRequest {
  /** null = `"state": null` (clear both sections). A section set to null is deleted. */
  state: { desired?: JsonObject | null; reported?: JsonObject | null } | null;
  clientToken?: string;
  version?: number;
}

export type SimpleRequest = Pick<UpdateRequest, 'clientToken'>;

export const SHADOW_LIMITS = {
  /** desired + reported, serialised, metadata excluded. */
  maxStateBytes: 8 * 1024,
  /** Levels of objects/arrays inside `desired` or `reported`, the section itself included. */
  maxDepth: 6,
  maxClientTokenBytes: 64,
  /** Whole request payload (AWS IoT's message size limit). */
  maxPayloadBytes: 128 * 1024,
} as const;

/** The `update/accepted` (also the HTTP reply), `update/delta` (when desired ≠ reported) and `update/documents` messages. */
export interface UpdateOutcome {
  next: StoredShadow;
  accepted: JsonObject;
  delta?: JsonObject;
  documents: JsonObject;
}

const byteLength = (v: unknown): number => Buffer.byteLength(JSON.stringify(v) ?? '', 'utf8');

/** Containers (objects, arrays) on the deepest path from `v` down, `v` included. */
function depth(v: Json): number {
  const children = Array.isArray(v) ? v : isObject(v) ? Object.values(v) : undefined;
  return children ? 1 + children.reduce<number>((m, x) => Math.max(m, depth(x)), 0) : 0;
}

const text = (payload: Uint8Array | string): string => (typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));

/** A request body: a JSON object within the size limit, its clientToken checked. */
function parseBody(payload: Uint8Array | string): { body: JsonObject; clientToken?: string } {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > SHADOW_LIMITS.maxPayloadBytes) throw new ShadowError(413, M.tooLarge);
  let body: unknown;
  try {
    body = JSON.parse(text(payload));
  } catch (err) {
    throw new ShadowError(400, M.invalidJson, err);
  }
  if (!isObject(body)) throw new ShadowError(400, M.invalidJson);
  const clientToken = readClientToken(body);
  return clientToken === undefined ? { body } : { body, clientToken };
}

/** The clientToken of any request, if it is a usable one (for echoing in a rejection). */
export function peekClientToken(payload: Uint8Array | string): string | undefined {
  try {
    const v: unknown = JSON.parse(text(payload));
    return isObject(v) ? readClientToken(v) : undefined;
  } catch {
    return undefined;
  }
}

function readClientToken(body: JsonObject): string | undefined {
  if (!Object.hasOwn(body, 'clientToken')) return undefined;
  const t = body.clientToken;
  if (typeof t !== 'string' || Buffer.byteLength(t) > SHADOW_LIMITS.maxClientTokenBytes) throw new ShadowError(400, M.invalidClientToken);
  return t;
}

/** An update request body, validated as AWS does. Throws ShadowError (400, 413). */
export function parseUpdateRequest(payload: Uint8Array | string): UpdateRequest {
  const { body, clientToken } = parseBody(payload);
  const base: Omit<UpdateRequest, 'state'> = clientToken === undefined ? {} : { clientToken };
  if (!Object.hasOwn(body, 'state')) throw new ShadowError(400, M.missingState);
  if (Object.hasOwn(body, 'version')) {
    const v = body.version;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ShadowError(400, M.invalidVersion);
    base.version = v;
  }
  const state = body.state;
  if (state === null) return { state: null, ...base };
  if (!isObject(state)) throw new ShadowError(400, M.stateNotObject);
  const out: NonNullable<UpdateRequest['state']> = {};
  for (const key of Object.keys(state)) {
    const section = state[key]!;
    if (key !== 'desired' && key !== 'reported') throw new ShadowError(400, M.invalidNode);
    if (section !== null && !isObject(section)) throw new ShadowError(400, key === 'desired' ? M.desiredNotObject : M.reportedNotObject);
    if (section !== null && depth(section) > SHADOW_LIMITS.maxDepth) throw new ShadowError(400, M.tooDeep);
    out[key] = section;
  }
  if (byteLength(out) > SHADOW_LIMITS.maxStateBytes) throw new ShadowError(413, M.tooLarge);
  return { state: out, ...base };
}

/** A get or delete request body: empty, or a JSON object with an optional clientToken. */
export function parseSimpleRequest(payload: Uint8Array | string | undefined): SimpleRequest {
  if (payload === undefined || payload.length === 0) return {};
  const { clientToken } = parseBody(payload);
  return clientToken !== undefined ? { clientToken } : {};
}

/** The metadata of a written value: `{timestamp}` per leaf, one per array element. */
function metadataOf(v: Json, now: number): Json {
  if (Array.isArray(v)) return v.map((x) => metadataOf(x, now));
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const k of Object.keys(v)) put(out, k, metadataOf(v[k]!, now));
    return out;
  }
  return { timestamp: now };
}

/**
 * The metadata of a section after `patch` turned it from `before` into `after` (mergeSection),
 * in place: each written leaf gets a new timestamp, deleted keys lose theirs, and a leaf that
 * became an object starts afresh.
 */
function mergeMetadata(meta: JsonObject, before: JsonObject, after: JsonObject, patch: JsonObject, now: number): void {
  for (const k of Object.keys(patch)) {
    const p = patch[k]!;
    const merged = own(after, k);
    if (p === null || merged === undefined) {
      delete meta[k];
    } else if (isObject(p) && isObject(merged)) {
      const was = own(before, k);
      let m = own(meta, k);
      if (!isObject(was) || !isObject(m)) put(meta, k, (m = {}));
      mergeMetadata(m, isObject(was) ? was : {}, merged, p, now);
    } else {
      put(meta, k, metadataOf(p, now));
    }
  }
}

/** Each leaf of desired that differs from reported, with its path; undefined when none. */
export function computeDelta(desired: JsonObject | undefined, reported: JsonObject | undefined): JsonObject | undefined {
  if (!desired) return undefined;
  const out: JsonObject = {};
  for (const k of Object.keys(desired)) {
    const d = desired[k]!;
    const r = reported ? own(reported, k) : undefined;
    if (r === undefined) {
      put(out, k, clone(d));
    } else if (isObject(d) && isObject(r)) {
      const sub = computeDelta(d, r);
      if (sub) put(out, k, sub);
    } else if (!deepEqual(d, r)) {
      put(out, k, clone(d));
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The metadata of desired, cut to the shape of the delta. */
function deltaMetadata(delta: Json, meta: Json | undefined): Json {
  if (isObject(delta) && isObject(meta)) {
    const out: JsonObject = {};
    for (const k of Object.keys(delta)) {
      const m = own(meta, k);
      if (m !== undefined) put(out, k, deltaMetadata(delta[k]!, m));
    }
    return out;
  }
  return clone(meta ?? null);
}

const withToken = (o: JsonObject, clientToken: string | undefined): JsonObject =>
  clientToken === undefined ? o : { ...o, clientToken };

function sections(s: ShadowSections): JsonObject {
  const out: JsonObject = {};
  if (s.desired) out.desired = clone(s.desired);
  if (s.reported) out.reported = clone(s.reported);
  return out;
}

function snapshot(s: StoredShadow): JsonObject {
  return { state: sections(s.state), metadata: sections(s.metadata), version: s.version };
}

/** A stored shadow that has never existed (version counter 0). */
export const emptyShadow = (): StoredShadow => ({ state: {}, metadata: {}, version: 0, exists: false });

/** Apply an update. Throws ShadowError 409 (stale version) or 413 (resulting state too large). */
export function applyUpdate(current: StoredShadow | undefined, request: UpdateRequest, now: number): UpdateOutcome {
  const prev = current ?? emptyShadow();
  if (request.version !== undefined && request.version !== prev.version) throw new ShadowError(409, M.versionConflict);

  const state: ShadowSections = prev.exists ? sections(prev.state) : {};
  const metadata: ShadowSections = prev.exists ? sections(prev.metadata) : {};
  const acceptedMeta: JsonObject = {};
  const patch = request.state;
  for (const name of ['desired', 'reported'] as const) {
    if (patch !== null && !Object.hasOwn(patch, name)) continue;
    const section = patch === null ? null : patch[name]!;
    const before = state[name] ?? {};
    const m = metadata[name] ?? {};
    delete state[name];
    delete metadata[name];
    acceptedMeta[name] = section === null ? { timestamp: now } : metadataOf(section, now);
    if (section === null) continue;
    const s = mergeSection(before, section);
    mergeMetadata(m, before, s, section, now);
    if (Object.keys(s).length > 0) {
      state[name] = s;
      metadata[name] = m;
    }
  }
  if (byteLength(state.desired ?? {}) + byteLength(state.reported ?? {}) > SHADOW_LIMITS.maxStateBytes) {
    throw new ShadowError(413, M.tooLarge);
  }

  const next: StoredShadow = { state, metadata, version: prev.version + 1, exists: true };
  const token = request.clientToken;
  const accepted = withToken(
    // The accepted metadata mirrors the request's state, a timestamp for each leaf or null:
    // `"state": null` gets `{timestamp}` alone (AWS's answer; the Greengrass shadow manager too).
    { state: patch === null ? null : clone(patch as JsonObject), metadata: patch === null ? { timestamp: now } : acceptedMeta, version: next.version, timestamp: now },
    token,
  );
  const deltaState = computeDelta(state.desired, state.reported);
  const delta = deltaState
    ? withToken({ version: next.version, timestamp: now, state: deltaState, metadata: deltaMetadata(deltaState, metadata.desired) }, token)
    : undefined;
  const documents = withToken(
    { ...(prev.exists ? { previous: snapshot(prev) } : {}), current: snapshot(next), timestamp: now },
    token,
  );
  return { next, accepted, ...(delta ? { delta } : {}), documents };
}

/** The `get/accepted` document (state with delta, metadata, version). Throws ShadowError 404. */
export function getShadowDocument(current: StoredShadow | undefined, request: SimpleRequest, now: number, name: string): JsonObject {
  if (!current?.exists) throw new ShadowError(404, M.noShadow(name));
  const state = sections(current.state);
  const delta = computeDelta(current.state.desired, current.state.reported);
  if (delta) state.delta = delta;
  return withToken({ state, metadata: sections(current.metadata), version: current.version, timestamp: now }, request.clientToken);
}

/** Delete: the shadow is gone but its version counter stays. Throws ShadowError 404. */
export function applyDelete(
  current: StoredShadow | undefined,
  request: SimpleRequest,
  now: number,
  name: string,
): { next: StoredShadow; accepted: JsonObject } {
  if (!current?.exists) throw new ShadowError(404, M.noShadow(name));
  return {
    next: { state: {}, metadata: {}, version: current.version, exists: false },
    accepted: withToken({ version: current.version, timestamp: now }, request.clientToken),
  };
}

/** The rejection payload AWS sends on `.../rejected` and as the HTTP error body. */
export function rejectionPayload(err: ShadowError, now: number, clientToken?: string): JsonObject {
  return withToken({ code: err.status, message: err.message, timestamp: now }, clientToken);
}
