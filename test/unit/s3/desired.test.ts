import { describe, expect, it } from 'vitest';
import { buildDesired, decideCreate, decideRemove, replacementPatch } from '../../../core/s3/desired';
import type { ObjectChange } from '../../../core/s3/event';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);
const created = (key: string, sequencer: string, eventTime = '2026-11-21T10:00:00.000Z', extra: Partial<ObjectChange> = {}): ObjectChange => ({
  kind: 'created',
  eventName: 'ObjectCreated:Put',
  bucket: 'b',
  key,
  sequencer,
  eventTime,
  size: 3,
  eTag: 'e',
  ...extra,
});
const removed = (key: string, sequencer: string, extra: Partial<ObjectChange> = {}): ObjectChange => ({
  kind: 'removed',
  eventName: 'ObjectRemoved:Delete',
  bucket: 'b',
  key,
  sequencer,
  eventTime: '2026-11-21T10:00:01.000Z',
  ...extra,
});

describe('buildDesired', () => {
  it('keeps the seed names url and hash, and adds size, key, ordering data and versionId when present', () => {
    expect(buildDesired(created('dir/a b.txt', '01', undefined, { versionId: 'v1' }), HASH_A, 3)).toEqual({
      url: 's3://b/dir/a b.txt',
      hash: HASH_A,
      size: 3,
      bucket: 'b',
      key: 'dir/a b.txt',
      versionId: 'v1',
      eTag: 'e',
      sequencer: '01',
      eventTime: '2026-11-21T10:00:00.000Z',
    });
  });
});

describe('decideCreate', () => {
  it('writes into an empty shadow', () => {
    expect(decideCreate(undefined, buildDesired(created('a', '01'), HASH_A, 3)).action).toBe('write');
  });
  it('sends nothing for the same bytes at the same place', () => {
    const cur = buildDesired(created('a', '01'), HASH_A, 3);
    expect(decideCreate(cur, buildDesired(created('a', '02'), HASH_A, 3))).toEqual({ action: 'skip', reason: 'unchanged' });
  });
  it('never lets an older event of the same key replace a newer one (sequencer)', () => {
    const cur = buildDesired(created('a', '02', '2026-11-21T09:00:00.000Z'), HASH_B, 3);
    expect(decideCreate(cur, buildDesired(created('a', '01', '2026-11-21T11:00:00.000Z'), HASH_A, 3))).toEqual({ action: 'skip', reason: 'older' });
  });
  it('orders different keys by event time', () => {
    const cur = buildDesired(created('b', '09', '2026-11-21T10:00:00.002Z'), HASH_B, 3);
    expect(decideCreate(cur, buildDesired(created('a', '01', '2026-11-21T10:00:00.001Z'), HASH_A, 3)).action).toBe('skip');
    expect(decideCreate(cur, buildDesired(created('a', '01', '2026-11-21T10:00:00.003Z'), HASH_A, 3)).action).toBe('write');
  });
  it('replaces a seed-era value (url and hash only), nulling the fields the new value lacks', () => {
    const seed = { url: 's3://b/old', hash: HASH_B, note: 'by hand' };
    const d = decideCreate(seed, buildDesired(created('a', '01'), HASH_A, 3));
    expect(d.action).toBe('write');
    expect(d.action === 'write' && d.value).toMatchObject({ url: 's3://b/a', hash: HASH_A, note: null });
  });
  it('sends versionId: null when the new value has none (shadow updates merge)', () => {
    expect(replacementPatch({ url: 'x', versionId: 'v1' }, buildDesired(created('a', '01'), HASH_A, 3))).toMatchObject({ versionId: null });
  });
});

describe('decideRemove', () => {
  const cur = buildDesired(created('a', '05'), HASH_A, 3);
  it('clears the value when the removed key is the one it points at', () => {
    expect(decideRemove(cur, removed('a', '06'))).toEqual({ action: 'clear' });
  });
  it('leaves it when another key was removed, or nothing is there', () => {
    expect(decideRemove(cur, removed('b', '06'))).toEqual({ action: 'skip', reason: 'not-pointing' });
    expect(decideRemove(undefined, removed('a', '06'))).toEqual({ action: 'skip', reason: 'absent' });
  });
  it('ignores a removal older than the creation the value came from', () => {
    expect(decideRemove(cur, removed('a', '04'))).toEqual({ action: 'skip', reason: 'older' });
  });
  it('ignores deleting another version of the key, but not a delete marker', () => {
    const versioned = buildDesired(created('a', '05', undefined, { versionId: 'v2' }), HASH_A, 3);
    expect(decideRemove(versioned, removed('a', '06', { versionId: 'v1' }))).toEqual({ action: 'skip', reason: 'not-pointing' });
    expect(decideRemove(versioned, removed('a', '06', { versionId: 'v2' }))).toEqual({ action: 'clear' });
    expect(decideRemove(versioned, removed('a', '06', { eventName: 'ObjectRemoved:DeleteMarkerCreated', versionId: 'm1' }))).toEqual({ action: 'clear' });
  });
});
