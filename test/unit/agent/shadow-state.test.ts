import { describe, expect, it } from 'vitest';
import { applyUpdate, mergeDelta, mirrorFromDocument } from '../../../agent/shadow-state';
import { deepEqual, mergeSection } from '../../../core/shadow/json';

const A = { url: 's3://b/app.bin', hash: 'a'.repeat(64), versionId: 'v1', size: 10 };

describe('mergeDelta (rebuilding the whole desired value from a delta)', () => {
  it('takes a delta that names every leaf as the value', () => {
    const B = { url: 's3://b/other.bin', hash: 'b'.repeat(64), versionId: 'v2', size: 20 };
    expect(mergeDelta(A, A, B)).toEqual({ value: B, sure: true });
  });

  it('fills the leaves missing from a hash-only delta from the last desired value when reported agrees', () => {
    const reported = { ...A, installedAt: '2026-01-01T00:00:00Z', path: '/d/app.bin' };
    const r = mergeDelta(A, reported, { hash: 'c'.repeat(64), versionId: 'v3' });
    expect(r).toEqual({ value: { ...A, hash: 'c'.repeat(64), versionId: 'v3' }, sure: true });
  });

  it('is unsure when a leaf missing from the delta differs between the last desired value and reported', () => {
    // Last desired said size 10 but reported says 99: the new desired size may be either.
    const r = mergeDelta(A, { ...A, size: 99 }, { hash: 'c'.repeat(64) });
    expect(r.sure).toBe(false);
  });

  it('drops a leaf reported lacks when the delta does not mention it (it was removed from desired)', () => {
    const { versionId: _v, ...reportedNoVersion } = A;
    const r = mergeDelta(A, reportedNoVersion, { hash: 'c'.repeat(64) });
    expect(r.sure).toBe(true);
    expect(r.value).toEqual({ url: A.url, hash: 'c'.repeat(64), size: 10 });
  });

  it('is unsure with no last desired value while reported holds leaves the delta may have left out', () => {
    expect(mergeDelta(undefined, A, { hash: 'c'.repeat(64) }).sure).toBe(false);
    expect(mergeDelta(undefined, undefined, { url: A.url, hash: A.hash })).toEqual({ value: { url: A.url, hash: A.hash }, sure: true });
  });

  it('merges nested objects leaf by leaf and takes arrays whole', () => {
    const last = { meta: { a: 1, b: 2 }, list: [1, 2] };
    const r = mergeDelta(last, last, { meta: { b: 3 }, list: [3] });
    expect(r).toEqual({ value: { meta: { a: 1, b: 3 }, list: [3] }, sure: true });
  });
});

describe('shadow mirror', () => {
  it('reads a get/accepted document', () => {
    const m = mirrorFromDocument({ state: { desired: { s3: A }, reported: { s3: null } }, version: 7 });
    expect(m).toEqual({ version: 7, desired: { s3: A }, reported: { s3: null } });
  });

  it('applies accepted updates as the shadow service merges them: null deletes, nested objects merge', () => {
    const m = { version: 1, desired: { s3: A, other: 1 }, reported: {} };
    const next = applyUpdate(m, { desired: { s3: { size: null, hash: 'd'.repeat(64) }, other: null }, reported: { s3: { x: 1 } } }, 2);
    expect(next).toEqual({ version: 2, desired: { s3: { url: A.url, hash: 'd'.repeat(64), versionId: 'v1' } }, reported: { s3: { x: 1 } } });
    expect(applyUpdate(next, { desired: null }, 3).desired).toEqual({});
  });

  it('mergeSection removes objects left empty', () => {
    expect(mergeSection({ a: { b: 1 } }, { a: { b: null } })).toEqual({});
  });

  it('deepEqual compares objects by content and arrays by order', () => {
    expect(deepEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(deepEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(deepEqual([1, 2], [2, 1])).toBe(false);
  });
});
