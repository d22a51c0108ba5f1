/**
 * The shadow document model, as AWS's Device Shadow documentation specifies it. Pure: no
 * sockets, `now` passed in (epoch seconds).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  applyDelete,
  applyUpdate,
  computeDelta,
  getShadowDocument,
  parseSimpleRequest,
  parseUpdateRequest,
  rejectionPayload,
  type JsonObject,
  type StoredShadow,
} from '../../../sandbox/iot/shadow-document';
import { ShadowError } from '../../../core/shadow/errors';

const T0 = 1_700_000_000;

function update(current: StoredShadow | undefined, body: unknown, now = T0) {
  return applyUpdate(current, parseUpdateRequest(JSON.stringify(body)), now);
}

function chain(...bodies: unknown[]): StoredShadow {
  let s: StoredShadow | undefined;
  bodies.forEach((b, i) => (s = update(s, b, T0 + i).next));
  return s!;
}

function rejection(fn: () => unknown): { status: number; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof ShadowError) return { status: err.status, message: err.message };
    throw err;
  }
  throw new Error('expected a ShadowError');
}

describe('parsing an update request', () => {
  it.each([
    ['{nope', 400, 'Invalid JSON'],
    ['[1,2]', 400, 'Invalid JSON'],
    ['{"desired":{}}', 400, 'Missing required node: state'],
    ['{"state":"on"}', 400, 'State node must be an object'],
    ['{"state":{"desired":[1]}}', 400, 'Desired node must be an object'],
    ['{"state":{"reported":5}}', 400, 'Reported node must be an object'],
    ['{"state":{"delta":{"a":1}}}', 400, 'State contains an invalid node'],
    ['{"state":{},"version":-1}', 400, 'Invalid version'],
    ['{"state":{},"version":"3"}', 400, 'Invalid version'],
    ['{"state":{},"version":1.5}', 400, 'Invalid version'],
    ['{"state":{},"clientToken":7}', 400, 'Invalid clientToken'],
    [`{"state":{},"clientToken":"${'x'.repeat(65)}"}`, 400, 'Invalid clientToken'],
    ['{"state":{"reported":{"1":{"2":{"3":{"4":{"5":{"6":{"7":"x"}}}}}}}}}', 400, 'JSON contains too many levels of nesting; maximum is 6'],
    ['{"state":{"reported":{"1":{"2":{"3":{"4":{"5":[["x"]]}}}}}}}', 400, 'JSON contains too many levels of nesting; maximum is 6'],
    [`{"state":{"desired":{"blob":"${'x'.repeat(8200)}"}}}`, 413, 'The payload exceeds the maximum size allowed'],
  ])('rejects %s with %i %s', (payload, status, message) => {
    expect(rejection(() => parseUpdateRequest(payload))).toEqual({ status, message });
  });

  it('accepts six levels of nesting and a 64-byte clientToken', () => {
    const ok = parseUpdateRequest(`{"state":{"reported":{"1":{"2":{"3":{"4":{"5":{"6":"x"}}}}}}},"clientToken":"${'t'.repeat(64)}"}`);
    expect(ok.clientToken).toHaveLength(64);
  });

  it('reads a get or delete request: empty, or an object with a clientToken', () => {
    expect(parseSimpleRequest(undefined)).toEqual({});
    expect(parseSimpleRequest('')).toEqual({});
    expect(parseSimpleRequest('{"clientToken":"abc"}')).toEqual({ clientToken: 'abc' });
    expect(rejection(() => parseSimpleRequest('x'))).toEqual({ status: 400, message: 'Invalid JSON' });
  });
});

describe('update', () => {
  it('creates the shadow at version 1 with a timestamp per leaf, and echoes the request in accepted', () => {
    const out = update(undefined, { state: { desired: { color: 'RED', sequence: ['RED', 'GREEN', 'BLUE'] } }, clientToken: 'c1' });
    expect(out.next).toMatchObject({ version: 1, exists: true, state: { desired: { color: 'RED', sequence: ['RED', 'GREEN', 'BLUE'] } } });
    expect(out.next.metadata).toEqual({
      desired: { color: { timestamp: T0 }, sequence: [{ timestamp: T0 }, { timestamp: T0 }, { timestamp: T0 }] },
    });
    expect(out.accepted).toEqual({
      state: { desired: { color: 'RED', sequence: ['RED', 'GREEN', 'BLUE'] } },
      metadata: { desired: { color: { timestamp: T0 }, sequence: [{ timestamp: T0 }, { timestamp: T0 }, { timestamp: T0 }] } },
      version: 1,
      timestamp: T0,
      clientToken: 'c1',
    });
  });

  it('publishes the delta of the documentation example: only desired leaves that differ, paths kept', () => {
    const s = chain({ state: { reported: { color: 'GREEN', engine: { speed: 10, temp: 70 }, battery: 80 } } });
    const out = update(s, { state: { desired: { color: 'RED', engine: { speed: 10, temp: 90 } } } }, T0 + 5);
    expect(out.delta).toEqual({
      version: 2,
      timestamp: T0 + 5,
      state: { color: 'RED', engine: { temp: 90 } },
      metadata: { color: { timestamp: T0 + 5 }, engine: { temp: { timestamp: T0 + 5 } } },
    });
  });

  it('compares arrays whole', () => {
    expect(computeDelta({ list: [1, 2, 3] }, { list: [1, 2, 3] })).toBeUndefined();
    expect(computeDelta({ list: [1, 2, 3] }, { list: [1, 2] })).toEqual({ list: [1, 2, 3] });
    expect(computeDelta({ list: [{ a: 1 }] }, { list: [{ a: 1, b: 2 }] })).toEqual({ list: [{ a: 1 }] });
  });

  it('never puts reported-only keys in the delta, and gives the whole desired value when types differ', () => {
    expect(computeDelta({ a: 1 }, { a: 1, b: 2 })).toBeUndefined();
    expect(computeDelta({ a: { x: 1 } }, { a: 5 })).toEqual({ a: { x: 1 } });
    expect(computeDelta({ a: 5 }, { a: { x: 1 } })).toEqual({ a: 5 });
    expect(computeDelta(undefined, { a: 1 })).toBeUndefined();
  });

  it('deletes a key with null, an emptied object with its last key, and a section with "desired": null', () => {
    const s = chain({ state: { desired: { a: 1, nested: { only: true }, keep: 2 }, reported: { r: 1 } } });
    const out = update(s, { state: { desired: { a: null, nested: { only: null } } } });
    expect(out.next.state).toEqual({ desired: { keep: 2 }, reported: { r: 1 } });
    expect(out.next.metadata.desired).toEqual({ keep: { timestamp: T0 } });
    expect(out.accepted.state).toEqual({ desired: { a: null, nested: { only: null } } });

    const gone = update(out.next, { state: { desired: null } });
    expect(gone.next.state).toEqual({ reported: { r: 1 } });
    expect(gone.next.metadata).toEqual({ reported: { r: { timestamp: T0 } } });
    expect(gone.delta).toBeUndefined();
  });

  it('clears both sections with "state": null and still counts a version', () => {
    const s = chain({ state: { desired: { a: 1 }, reported: { a: 2 } } });
    const out = update(s, { state: null });
    expect(out.next).toEqual({ state: {}, metadata: {}, version: 2, exists: true });
    expect(out.accepted).toMatchObject({ state: null, version: 2 });
  });

  it('answers "state": null with the request echoed and metadata {timestamp} alone, as AWS does', () => {
    const s = chain({ state: { desired: { a: 1 }, reported: { a: 2 } } });
    const out = update(s, { state: null, clientToken: 'c1' }, T0 + 5);
    expect(out.accepted).toEqual({ state: null, metadata: { timestamp: T0 + 5 }, version: 2, timestamp: T0 + 5, clientToken: 'c1' });
    expect(out.delta).toBeUndefined();
    expect(out.documents).toMatchObject({ current: { state: {}, metadata: {}, version: 2 } });
    // On a shadow that never existed it creates an empty one at version 1.
    expect(update(undefined, { state: null }).next).toEqual({ state: {}, metadata: {}, version: 1, exists: true });
  });

  it('answers "desired": null with desired: {timestamp} in the metadata, and "reported": null leaves every desired key in the delta', () => {
    const s = chain({ state: { desired: { a: 1, b: 2 }, reported: { a: 1, b: 2 } } });
    const noDesired = update(s, { state: { desired: null } }, T0 + 1);
    expect(noDesired.accepted).toEqual({ state: { desired: null }, metadata: { desired: { timestamp: T0 + 1 } }, version: 2, timestamp: T0 + 1 });
    expect(noDesired.delta).toBeUndefined();

    const noReported = update(s, { state: { reported: null } }, T0 + 1);
    expect(noReported.accepted.metadata).toEqual({ reported: { timestamp: T0 + 1 } });
    expect(noReported.next.state).toEqual({ desired: { a: 1, b: 2 } });
    expect(noReported.delta).toMatchObject({ state: { a: 1, b: 2 }, metadata: { a: { timestamp: T0 }, b: { timestamp: T0 } }, version: 2 });
  });

  it('accepts a null-only update of keys that are not there: a timestamp per null, one more version, the state unchanged', () => {
    const s = chain({ state: { reported: { a: 1 } } });
    const out = update(s, { state: { desired: { ghost: null, nested: { deeper: null } } } }, T0 + 3);
    expect(out.accepted).toEqual({
      state: { desired: { ghost: null, nested: { deeper: null } } },
      metadata: { desired: { ghost: { timestamp: T0 + 3 }, nested: { deeper: { timestamp: T0 + 3 } } } },
      version: 2,
      timestamp: T0 + 3,
    });
    expect(out.next.state).toEqual({ reported: { a: 1 } });
    expect(out.next.metadata).toEqual({ reported: { a: { timestamp: T0 } } });
    expect(out.delta).toBeUndefined();
  });

  it('removes a key from the delta when a null deletes it from desired, and sends no delta once none differ', () => {
    const s = chain({ state: { desired: { a: 1, b: 2 }, reported: { a: 1 } } });
    expect(update(s, { state: { desired: { b: null } } }).delta).toBeUndefined();
    const two = chain({ state: { desired: { a: 5, b: 2 }, reported: { a: 1 } } });
    expect(update(two, { state: { desired: { b: null } } }).delta).toMatchObject({ state: { a: 5 } });
  });

  it('replaces a leaf by an object (and back) with metadata to match', () => {
    const s = chain({ state: { reported: { v: 1 } } });
    const obj = update(s, { state: { reported: { v: { major: 2 } } } }, T0 + 1);
    expect(obj.next.metadata.reported).toEqual({ v: { major: { timestamp: T0 + 1 } } });
    const leaf = update(obj.next, { state: { reported: { v: 3 } } }, T0 + 2);
    expect(leaf.next.metadata.reported).toEqual({ v: { timestamp: T0 + 2 } });
  });

  it('keeps the timestamps of leaves the update did not touch', () => {
    const s = chain({ state: { reported: { a: 1, b: 2 } } }, { state: { reported: { b: 3 } } });
    expect(s.metadata.reported).toEqual({ a: { timestamp: T0 }, b: { timestamp: T0 + 1 } });
  });

  it('accepts the current version and rejects any other with 409 Version conflict', () => {
    const s = chain({ state: { reported: { a: 1 } } }, { state: { reported: { a: 2 } } });
    expect(update(s, { state: { reported: { a: 3 } }, version: 2 }).next.version).toBe(3);
    expect(rejection(() => update(s, { state: { reported: { a: 3 } }, version: 1 }))).toEqual({ status: 409, message: 'Version conflict' });
    expect(rejection(() => update(s, { state: { reported: { a: 3 } }, version: 7 }))).toEqual({ status: 409, message: 'Version conflict' });
  });

  it('rejects with 413 an update whose resulting state passes 8 KB, and leaves the shadow as it was', () => {
    const s = chain({ state: { desired: { a: 'x'.repeat(5000) } } });
    const before = structuredClone(s);
    expect(rejection(() => update(s, { state: { reported: { b: 'y'.repeat(5000) } } }))).toEqual({
      status: 413,
      message: 'The payload exceeds the maximum size allowed',
    });
    expect(s).toEqual(before);
  });

  it('sends documents with previous and current (no previous when the shadow is new)', () => {
    const first = update(undefined, { state: { desired: { a: 1 } }, clientToken: 'k' });
    expect(first.documents).toEqual({
      current: { state: { desired: { a: 1 } }, metadata: { desired: { a: { timestamp: T0 } } }, version: 1 },
      timestamp: T0,
      clientToken: 'k',
    });
    const second = update(first.next, { state: { reported: { a: 1 } } }, T0 + 1);
    expect(second.documents).toMatchObject({
      previous: { state: { desired: { a: 1 } }, version: 1 },
      current: { state: { desired: { a: 1 }, reported: { a: 1 } }, version: 2 },
    });
    expect(second.delta).toBeUndefined();
  });

  it('treats "__proto__" as an ordinary key', () => {
    const out = applyUpdate(undefined, parseUpdateRequest('{"state":{"desired":{"__proto__":{"polluted":true}}}}'), T0);
    expect(Object.keys(out.next.state.desired!)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(computeDelta(out.next.state.desired, {})).toEqual(JSON.parse('{"__proto__":{"polluted":true}}'));
  });
});

describe('get and delete', () => {
  it('answers 404 for a shadow that never existed or was deleted', () => {
    expect(rejection(() => getShadowDocument(undefined, {}, T0, 'lamp'))).toEqual({ status: 404, message: 'No shadow exists with name: lamp' });
    const s = chain({ state: { reported: { a: 1 } } });
    const { next } = applyDelete(s, {}, T0, 'lamp');
    expect(rejection(() => getShadowDocument(next, {}, T0, 'lamp'))).toMatchObject({ status: 404 });
    expect(rejection(() => applyDelete(next, {}, T0, 'lamp'))).toMatchObject({ status: 404 });
  });

  it('returns state with delta, metadata, version and the clientToken', () => {
    const s = chain({ state: { desired: { on: true }, reported: { on: false, rssi: -40 } } });
    expect(getShadowDocument(s, { clientToken: 'g' }, T0 + 9, 'lamp')).toEqual({
      state: { desired: { on: true }, reported: { on: false, rssi: -40 }, delta: { on: true } },
      metadata: { desired: { on: { timestamp: T0 } }, reported: { on: { timestamp: T0 }, rssi: { timestamp: T0 } } },
      version: 1,
      timestamp: T0 + 9,
      clientToken: 'g',
    });
  });

  it('keeps the version counter through a delete', () => {
    const s = chain({ state: { reported: { a: 1 } } }, { state: { reported: { a: 2 } } });
    const del = applyDelete(s, { clientToken: 'd' }, T0, 'lamp');
    expect(del.accepted).toEqual({ version: 2, timestamp: T0, clientToken: 'd' });
    expect(update(del.next, { state: { reported: { a: 3 } } }).next.version).toBe(3);
    expect(update(del.next, { state: { reported: { a: 3 } } }).documents.previous).toBeUndefined();
  });

  it('builds the rejection payload AWS sends', () => {
    expect(rejectionPayload(new ShadowError(409, 'Version conflict'), T0, 'tok')).toEqual({ code: 409, message: 'Version conflict', timestamp: T0, clientToken: 'tok' });
  });
});

describe('properties', () => {
  const key = fc.constantFrom('a', 'b', 'c', 'd');
  const leaf = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.constantFrom('x', 'y'), fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 2 }));
  // Bounded so every generated state stays within the shadow's 6-level nesting limit (an array
  // leaf counts as a level): these properties are about deltas, not the limit, which is tested above.
  const { tree } = fc.letrec<{ tree: JsonObject }>((tie) => ({
    tree: fc.dictionary(key, fc.oneof({ depthSize: 'small', maxDepth: 3 }, leaf, tie('tree')), { maxKeys: 3 }) as fc.Arbitrary<JsonObject>,
  }));

  it('has no delta once reported is written with the desired values', () => {
    fc.assert(
      fc.property(tree, tree, (desired, reported) => {
        const s = chain({ state: { desired, reported } });
        const after = update(s, { state: { reported: s.state.desired ?? {} } });
        expect(after.delta).toBeUndefined();
      }),
    );
  });

  it('puts in the delta only paths that exist in desired', () => {
    const within = (delta: JsonObject, desired: JsonObject): boolean =>
      Object.keys(delta).every((k) => {
        const d = delta[k]!;
        const w = desired[k];
        if (w === undefined) return false;
        return typeof d === 'object' && d !== null && !Array.isArray(d) && typeof w === 'object' && w !== null && !Array.isArray(w) ? within(d, w) : true;
      });
    fc.assert(
      fc.property(tree, tree, (desired, reported) => {
        const delta = computeDelta(desired, reported);
        if (delta) expect(within(delta, desired)).toBe(true);
      }),
    );
  });
});
