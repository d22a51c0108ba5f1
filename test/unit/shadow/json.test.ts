/**
 * One shadow JSON model for the shadow service, the agent and the sandbox: keys named like
 * Object.prototype's members are data wherever a shadow document is read, merged or compared.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { applyUpdate as applyServiceUpdate, computeDelta, emptyShadow, getShadowDocument, parseUpdateRequest } from '../../../sandbox/iot/shadow-document';
import { deepEqual, isObject, mergeSection, own, put, type Json, type JsonObject } from '../../../core/shadow/json';
import { applyUpdate as applyMirrorUpdate, mergeDelta, mirrorFromDocument } from '../../../agent/shadow-state';
import { ShadowObserver } from '../../../sandbox/shadow-observer';
import type { SandboxEvent } from '../../../sandbox/event-log';

const SPECIAL_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'] as const;
const KEYS = [...SPECIAL_KEYS, 'a', 'b'];
const T0 = 1_700_000_000;

/** An object with `key` as an own property, as JSON.parse builds it. */
const withKey = (key: string, value: Json): JsonObject => JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value)}}`) as JsonObject;

function expectPrototypeUntouched(): void {
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(typeof Object.prototype.toString).toBe('function');
}

afterEach(expectPrototypeUntouched);

describe.each(SPECIAL_KEYS)('a key named "%s" is plain data', (key) => {
  it('is read only when present as an own property', () => {
    expect(own({}, key)).toBeUndefined();
    expect(own(withKey(key, 1), key)).toBe(1);
  });

  it('is written as an own property without changing the prototype', () => {
    const o: JsonObject = {};
    put(o, key, { polluted: true });
    expect(Object.keys(o)).toEqual([key]);
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
  });

  it('counts in equality only when present', () => {
    expect(deepEqual({}, withKey(key, 1))).toBe(false);
    expect(deepEqual(withKey(key, 1), withKey(key, 1))).toBe(true);
    expect(deepEqual(withKey(key, { x: 1 }), withKey(key, { x: 2 }))).toBe(false);
  });

  it('merges, replaces and deletes like any other key', () => {
    const merged = mergeSection({ a: 1 }, withKey(key, { polluted: true }));
    expect(Object.keys(merged).sort()).toEqual([key, 'a'].sort());
    expect(own(merged, key)).toEqual({ polluted: true });
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    const nested = mergeSection(merged, withKey(key, { other: 2 }));
    expect(own(nested, key)).toEqual({ polluted: true, other: 2 });
    expect(mergeSection(nested, withKey(key, null))).toEqual({ a: 1 });
  });

  it('is stored, delta-ed and returned by the shadow service', () => {
    const request = parseUpdateRequest(JSON.stringify({ state: { desired: withKey(key, { polluted: true }), reported: { a: 1 } } }));
    const { next, delta } = applyServiceUpdate(undefined, request, T0);
    expect(Object.keys(next.state.desired!)).toEqual([key]);
    expect(Object.keys(next.metadata.desired!)).toEqual([key]);
    expect(own(delta?.state as JsonObject, key)).toEqual({ polluted: true });
    expect(computeDelta(withKey(key, 1), withKey(key, 1))).toBeUndefined();
    expect(computeDelta(withKey(key, 1), {})).toEqual(withKey(key, 1));
    const doc = getShadowDocument(next, {}, T0, 'lamp');
    expect(own((doc.state as JsonObject).desired as JsonObject, key)).toEqual({ polluted: true });
  });

  it('is followed by the agent mirror and its delta merge', () => {
    const doc = JSON.parse(JSON.stringify({ state: { desired: withKey(key, { v: 1 }), reported: {} }, version: 3 })) as unknown;
    const mirror = mirrorFromDocument(doc);
    expect(Object.keys(mirror.desired)).toEqual([key]);
    const next = applyMirrorUpdate(mirror, { desired: withKey(key, { w: 2 }) }, 4);
    expect(own(next.desired, key)).toEqual({ v: 1, w: 2 });
    // A leaf the delta does not carry is not found on the delta's prototype.
    expect(mergeDelta({ a: 1, [key]: 2 }, withKey(key, 2), { a: 5 })).toEqual({ value: JSON.parse(`{"a":5,${JSON.stringify(key)}:2}`), sure: true });
    expect(mergeDelta({ a: 1 }, { a: 1 }, withKey(key, 7))).toEqual({ value: JSON.parse(`{"a":1,${JSON.stringify(key)}:7}`), sure: true });
    // A document without the key has no such section member, inherited or not.
    expect(mirrorFromDocument({ state: {} })).toEqual({ version: 0, desired: {}, reported: {} });
  });

  it('is not mistaken for a shadow property by the sandbox observer', () => {
    const events: SandboxEvent[] = [];
    const observer = new ShadowObserver({ property: key, emit: (e) => events.push(e) });
    observer.documents('t', { current: { state: { desired: {}, reported: {} } } });
    expect(observer.desiredHash('t')).toBeUndefined();
    observer.documents('t', { current: { state: { desired: withKey(key, { hash: 'h', url: 'u' }) } } });
    expect(observer.desiredHash('t')).toBe('h');
  });
});

/** JSON values whose object keys include the special ones, built as JSON.parse would build them. */
const jsonValue: fc.Arbitrary<Json> = fc.letrec<{ value: Json; object: JsonObject }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.constantFrom<Json>(null, true, 1, 'x'), fc.array(tie('value'), { maxLength: 2 }), tie('object')),
  object: fc.array(fc.tuple(fc.constantFrom(...KEYS), tie('value')), { maxLength: 3 }).map((entries) => {
    const o: JsonObject = {};
    for (const [k, v] of entries) put(o, k, v);
    return o;
  }),
})).value;
const patch = jsonValue.filter(isObject) as fc.Arbitrary<JsonObject>;

describe('the agent mirror and the shadow service agree', () => {
  it('on desired after any sequence of updates, special keys included', () => {
    fc.assert(
      fc.property(fc.array(patch, { minLength: 1, maxLength: 4 }), (patches) => {
        let stored = emptyShadow();
        let mirror = mirrorFromDocument({});
        patches.forEach((desired, i) => {
          const body = JSON.stringify({ state: { desired } });
          let request;
          try {
            request = parseUpdateRequest(body);
          } catch {
            return; // too deep for the service: not an update either side sees
          }
          const out = applyServiceUpdate(stored, request, T0 + i);
          stored = out.next;
          mirror = applyMirrorUpdate(mirror, JSON.parse(JSON.stringify(out.accepted.state)), out.next.version);
        });
        expect(mirror.desired).toEqual(stored.state.desired ?? {});
        expect(deepEqual(mirror.desired, stored.state.desired ?? {})).toBe(true);
        expectPrototypeUntouched();
      }),
      { numRuns: 300 },
    );
  });
});
