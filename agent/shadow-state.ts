/**
 * The agent's copy of its shadow document, how deltas and accepted updates move it forward, and
 * how a reported value is replaced. Pure. A delta holds only the leaves where desired differs from
 * reported (a new version of the same key changes `hash` and `versionId`, not `url`): `mergeDelta`
 * rebuilds the whole value from the last known one and says when it cannot be sure; the session
 * then re-`get`s.
 */
import { deepEqual, hasOwn, isObject, mergeSection, own, put, type Json, type JsonObject } from '../core/shadow/json';

export interface ShadowMirror {
  version: number;
  desired: JsonObject;
  reported: JsonObject;
}

/** The mirror after an accepted update carrying `state` (a `desired: null` clears the section). */
export function applyUpdate(mirror: ShadowMirror, state: unknown, version: number): ShadowMirror {
  const s = isObject(state) ? state : {};
  const section = (name: 'desired' | 'reported'): JsonObject => {
    if (!hasOwn(s, name)) return mirror[name];
    const patch = s[name];
    if (patch === null) return {};
    return isObject(patch) ? mergeSection(mirror[name], patch) : mirror[name];
  };
  return { version, desired: section('desired'), reported: section('reported') };
}

/** `next` as an update of `current`: keys that must disappear are sent as null. */
export function asUpdate(current: Json | undefined, next: JsonObject): JsonObject {
  const out: JsonObject = { ...next };
  if (isObject(current)) for (const k of Object.keys(current)) if (!hasOwn(next, k)) put(out, k, null);
  return out;
}

/** The mirror from a `get/accepted` document. */
export function mirrorFromDocument(doc: unknown): ShadowMirror {
  const d = isObject(doc) ? doc : undefined;
  const state = own(d, 'state');
  const section = (name: string): JsonObject => {
    const value = isObject(state) ? own(state, name) : undefined;
    return isObject(value) ? value : {};
  };
  const version = own(d, 'version');
  return { version: typeof version === 'number' ? version : 0, desired: section('desired'), reported: section('reported') };
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
    if (hasOwn(delta, k)) {
      const inner = mergeDelta(own(base, k), own(rep, k), delta[k]);
      put(value, k, inner.value);
      if (!inner.sure) sure = false;
    } else if (!hasOwn(rep, k)) {
      // Desired cannot hold a leaf that reported lacks without the delta showing it: it is gone.
    } else if (deepEqual(base[k], own(rep, k))) {
      put(value, k, base[k]!);
    } else {
      sure = false;
      put(value, k, base[k]!);
    }
  }
  return { value, sure };
}
