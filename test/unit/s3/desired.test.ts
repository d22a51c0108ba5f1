import { describe, expect, it } from 'vitest';
import type { KeyState } from '../../../core/s3/object-get';
import { buildDesired, decideForKey, replacementPatch } from '../../../core/s3/desired';
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
  eventName: 'ObjectRemoved:DeleteMarkerCreated',
  bucket: 'b',
  key,
  sequencer,
  eventTime: '2026-11-21T10:00:01.000Z',
  ...extra,
});
const v1 = { exists: true, size: 3, eTag: 'e1', versionId: 'v1' } as const;
const v2 = { exists: true, size: 3, eTag: 'e1', versionId: 'v2' } as const;
const gone: KeyState = { exists: false };
const stored = (key: string, object: typeof v1 | typeof v2, hash: string, sequencer = '05', eventTime = '2026-11-21T10:00:00.000Z') =>
  buildDesired('b', key, object, hash, { sequencer, eventTime });

describe('buildDesired', () => {
  it("keeps the seed names url and hash, and names the key's current object with its version", () => {
    expect(buildDesired('b', 'dir/a b.txt', v1, HASH_A, { sequencer: '01', eventTime: '2026-11-21T10:00:00.000Z' })).toEqual({
      url: 's3://b/dir/a b.txt',
      hash: HASH_A,
      size: 3,
      bucket: 'b',
      key: 'dir/a b.txt',
      versionId: 'v1',
      eTag: 'e1',
      sequencer: '01',
      eventTime: '2026-11-21T10:00:00.000Z',
    });
  });

  it('sends versionId: null when the new value has none (shadow updates merge)', () => {
    expect(replacementPatch({ url: 'x', versionId: 'v1' }, buildDesired('b', 'a', { exists: true, size: 3, eTag: 'e' }, HASH_A, { sequencer: '01', eventTime: '2026-11-21T10:00:00.000Z' }))).toMatchObject({ versionId: null });
  });
});

describe('decideForKey: the key state decides, not the event', () => {
  it('asks for the hash, then writes the current object into an empty shadow', () => {
    expect(decideForKey(undefined, created('a', '01'), v1)).toEqual({ action: 'hash' });
    const d = decideForKey(undefined, created('a', '01'), v1, HASH_A);
    expect(d).toMatchObject({ action: 'write', value: { url: 's3://b/a', versionId: 'v1', hash: HASH_A } });
  });

  it('sends nothing when the value already names the current version and has seen this event or a newer one', () => {
    expect(decideForKey(stored('a', v1, HASH_A, '09'), created('a', '09'), v1)).toEqual({ action: 'skip', reason: 'unchanged' });
    expect(decideForKey(stored('a', v1, HASH_A, '09'), created('a', '03'), v1)).toEqual({ action: 'skip', reason: 'unchanged' });
  });

  it('takes only the ordering data of a newer event for the object it already names', () => {
    expect(decideForKey(stored('a', v1, HASH_A, '05'), created('a', '09', '2026-11-21T10:00:09.000Z'), v1)).toEqual({
      action: 'write',
      value: { sequencer: '09', eventTime: '2026-11-21T10:00:09.000Z' },
    });
  });

  it('a re-upload of identical bytes is a new version: the value moves to it', () => {
    expect(decideForKey(stored('a', v1, HASH_A), created('a', '09'), v2, HASH_A)).toMatchObject({ action: 'write', value: { versionId: 'v2', hash: HASH_A } });
  });

  it('a late delete does not clear a key that exists again (defect 1)', () => {
    expect(decideForKey(stored('a', v2, HASH_A, '09'), removed('a', '07'), v2)).toEqual({ action: 'skip', reason: 'unchanged' });
  });

  it('a late upload event of a deleted key clears the value instead of naming the deleted version (defect 2)', () => {
    expect(decideForKey(stored('a', v1, HASH_A), created('a', '01', undefined, { versionId: 'v1' }), gone)).toEqual({ action: 'clear' });
  });

  it('an old event still corrects a value that is not what the key holds now', () => {
    const d = decideForKey(stored('a', v1, HASH_A, '09'), created('a', '01'), v2, HASH_B);
    // The newest ordering data seen for the key is kept.
    expect(d).toMatchObject({ action: 'write', value: { versionId: 'v2', hash: HASH_B, sequencer: '09' } });
  });

  it('leaves a value that names another key when this key is gone, and an empty shadow empty', () => {
    expect(decideForKey(stored('other', v1, HASH_A), removed('a', '06'), gone)).toEqual({ action: 'skip', reason: 'not-pointing' });
    expect(decideForKey(undefined, removed('a', '06'), gone)).toEqual({ action: 'skip', reason: 'absent' });
  });

  it('orders different keys by event time: an older event of another key does not take the thing over', () => {
    const cur = stored('other', v1, HASH_B, '09', '2026-11-21T10:00:00.002Z');
    expect(decideForKey(cur, created('a', '01', '2026-11-21T10:00:00.001Z'), v1)).toEqual({ action: 'skip', reason: 'older' });
    expect(decideForKey(cur, created('a', '01', '2026-11-21T10:00:00.003Z'), v1)).toEqual({ action: 'hash' });
  });

  it('replaces a seed-era value (url and hash only), nulling the fields the new value lacks', () => {
    const seed = { url: 's3://b/a', hash: HASH_B, note: 'hand-written' };
    const d = decideForKey(seed, created('a', '01'), v1, HASH_A);
    expect(d).toMatchObject({ action: 'write', value: { hash: HASH_A, note: null } });
  });

  it('unversioned: the same ETag and size is the same object; another ETag is not', () => {
    const plain = { exists: true, size: 3, eTag: 'e1' } as const;
    const cur = buildDesired('b', 'a', plain, HASH_A, { sequencer: '05', eventTime: '2026-11-21T10:00:00.000Z' });
    expect(decideForKey(cur, created('a', '05'), plain)).toEqual({ action: 'skip', reason: 'unchanged' });
    expect(decideForKey(cur, created('a', '06'), { exists: true, size: 3, eTag: 'e2' })).toEqual({ action: 'hash' });
  });
});
