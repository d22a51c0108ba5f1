/**
 * The JSON of shadow documents. Keys come from whoever writes the shadow, so every access is to
 * own properties (`own`/`hasOwn`, `put`): a key named `__proto__` or `constructor` is plain data,
 * never a way to reach an object's prototype. Pure.
 */
import { isObject as isPlainObject } from '../util/guards';

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

/** `isObject` for values parsed from JSON. */
export const isObject = isPlainObject as (value: unknown) => value is JsonObject;

/** A shadow message's payload as a JSON object; throws when it is not JSON or not an object. */
export function parseObject(payload: Buffer): JsonObject {
  const parsed: unknown = JSON.parse(payload.toString('utf8'));
  if (!isObject(parsed)) throw new Error('not an object');
  return parsed;
}

export function hasOwn(o: JsonObject | undefined, key: string): boolean {
  return o !== undefined && Object.hasOwn(o, key);
}

/** `o[key]` if `o` has it as its own property; never something inherited. */
export function own(o: JsonObject | undefined, key: string): Json | undefined {
  return o !== undefined && Object.hasOwn(o, key) ? o[key] : undefined;
}

/** `o[key] = value` as a data property, even for `__proto__` (plain assignment would set the prototype). */
export function put(o: JsonObject, key: string, value: Json): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

export function clone<T extends Json>(value: T): T {
  return structuredClone(value);
}

/** Equal content: objects by own keys whatever their order, arrays element by element. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
}

/**
 * A section (`desired` or `reported`) after an update, as the shadow service merges it: objects
 * merge key by key, `null` deletes a key, anything else (arrays included) replaces. An object
 * whose keys the patch all deleted goes too; a `{}` written on purpose stays. New object; the
 * inputs are not changed and the result shares nothing with the patch.
 */
export function mergeSection(base: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of Object.keys(base)) put(out, k, base[k]!);
  for (const k of Object.keys(patch)) {
    const p = patch[k]!;
    if (p === null) {
      delete out[k];
    } else if (isObject(p)) {
      const before = own(out, k);
      const merged = mergeSection(isObject(before) ? before : {}, p);
      if (Object.keys(merged).length === 0 && Object.keys(p).length > 0) delete out[k];
      else put(out, k, merged);
    } else {
      put(out, k, clone(p));
    }
  }
  return out;
}
