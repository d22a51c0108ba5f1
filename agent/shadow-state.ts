/**
 * The agent's copy of its shadow document, and how deltas and accepted updates move it forward.
 * Pure: no MQTT here, so the rules can be tested leaf by leaf.
 *
 * The shadow service sends a delta with only the leaves where desired differs from reported,
 * so a delta alone is often not the whole desired value (an upload of a new version of the same
 * key changes `hash` and `versionId` but not `url`). `mergeDelta` rebuilds the whole value from
 * the last known desired value and says when it cannot be sure; the session then re-`get`s.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface ShadowMirror {
  version: number;
  desired: JsonObject;
  reported: JsonObject;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => deepEqual(v, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
}

/** Shadow update merge: objects merge leaf by leaf, `null` deletes, anything else replaces. */
export function mergeSection(base: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (isObject(v)) {
      const merged = mergeSection(isObject(out[k]) ? (out[k] as JsonObject) : {}, v);
      if (Object.keys(merged).length === 0) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  return out;
}

/** The mirror after an accepted update carrying `state` (a `desired: null` clears the section). */
export function applyUpdate(mirror: ShadowMirror, state: unknown, version: number): ShadowMirror {
  const s = isObject(state) ? state : {};
  const section = (name: 'desired' | 'reported'): JsonObject => {
    if (!(name in s)) return mirror[name];
    const patch = s[name];
    if (patch === null) return {};
    return isObject(patch) ? mergeSection(mirror[name], patch) : mirror[name];
  };
  return { version, desired: section('desired'), reported: section('reported') };
}

/** The mirror from a `get/accepted` document. */
export function mirrorFromDocument(doc: unknown): ShadowMirror {
  const d = isObject(doc) ? doc : {};
  const state = isObject(d.state) ? d.state : {};
  return {
    version: typeof d.version === 'number' ? d.version : 0,
    desired: isObject(state.desired) ? state.desired : {},
    reported: isObject(state.reported) ? state.reported : {},
  };
}

/**
 * The whole new desired value of one property, from the last known desired value, the reported
 * value and the delta for that property. A leaf missing from the delta is either gone from
 * desired or equal to reported: when the last known value and reported disagree on such a leaf
 * we cannot tell which, so `sure` is false.
 */
export function mergeDelta(lastDesired: unknown, reported: unknown, delta: unknown): { value: Json; sure: boolean } {
  if (!isObject(delta)) return { value: delta as Json, sure: true };
  let sure = true;
  let base: JsonObject;
  if (isObject(lastDesired)) base = lastDesired;
  else {
    base = {};
    // Nothing known to build on: leaves equal to reported are invisible in the delta.
    if (isObject(reported) && Object.keys(reported).length > 0) sure = false;
  }
  const rep = isObject(reported) ? reported : undefined;
  const value: JsonObject = {};
  for (const k of new Set([...Object.keys(base), ...Object.keys(delta)])) {
    if (k in delta) {
      const inner = mergeDelta(base[k], rep?.[k], delta[k]);
      value[k] = inner.value;
      if (!inner.sure) sure = false;
    } else if (rep === undefined || !(k in rep)) {
      // Desired cannot hold a leaf that reported lacks without the delta showing it: it is gone.
    } else if (deepEqual(base[k], rep[k])) {
      value[k] = base[k]!;
    } else {
      sure = false;
      value[k] = base[k]!;
    }
  }
  return { value, sure };
}
