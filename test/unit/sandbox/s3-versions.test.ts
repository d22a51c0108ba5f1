import { describe, expect, it } from 'vitest';
import { applyDelete, applyPut, NULL_VERSION, resolveRead, type KeyHistory, type ObjectVersion } from '../../../sandbox/s3/versions';

const version = (id: string, blob = `blob-${id}`): ObjectVersion => ({ versionId: id, deleteMarker: false, lastModified: '2026-11-21T10:00:00.000Z', size: 1, etag: '"e"', blob });
const marker = (id: string) => ({ versionId: id, lastModified: '2026-11-21T10:00:01.000Z' });

describe('the local S3 version rules', () => {
  it('versioned: puts stack up, the newest is what a plain read gets, older ones stay readable by id', () => {
    let h: KeyHistory | undefined = applyPut(undefined, 'k', 'Enabled', version('v1')).history;
    h = applyPut(h, 'k', 'Enabled', version('v2')).history;
    expect(resolveRead(h)).toEqual({ type: 'object', version: version('v2') });
    expect(resolveRead(h, 'v1')).toEqual({ type: 'object', version: version('v1') });
    expect(resolveRead(h, 'v9')).toEqual({ type: 'no-such-version' });
  });

  it('versioned: a delete without id adds a marker; the key reads as missing; the marker read by id is a delete marker', () => {
    const h = applyPut(undefined, 'k', 'Enabled', version('v1')).history;
    const del = applyDelete(h, 'k', 'Enabled', undefined, marker('m1'));
    expect(del).toMatchObject({ eventName: 'ObjectRemoved:DeleteMarkerCreated', versionId: 'm1', deleteMarker: true, dropped: [] });
    expect(resolveRead(del.history)).toMatchObject({ type: 'no-such-key', marker: { versionId: 'm1' } });
    expect(resolveRead(del.history, 'm1')).toMatchObject({ type: 'delete-marker' });
    expect(resolveRead(del.history, 'v1')).toMatchObject({ type: 'object' });
  });

  it('versioned: deleting a version by id removes it for good and the newest remaining becomes current', () => {
    let h = applyPut(undefined, 'k', 'Enabled', version('v1')).history;
    h = applyDelete(h, 'k', 'Enabled', undefined, marker('m1')).history;
    const undo = applyDelete(h, 'k', 'Enabled', 'm1', marker('unused'));
    expect(undo).toMatchObject({ eventName: 'ObjectRemoved:Delete', versionId: 'm1', deleteMarker: true });
    expect(resolveRead(undo.history)).toMatchObject({ type: 'object', version: { versionId: 'v1' } });
    const gone = applyDelete(undo.history, 'k', 'Enabled', 'v1', marker('unused'));
    expect(gone.history).toBeUndefined();
    expect(gone.dropped).toEqual([version('v1')]);
  });

  it('unversioned: one entry with version null, replaced by a put (old bytes dropped) and removed by a delete', () => {
    const first = applyPut(undefined, 'k', 'Unversioned', version('x1'));
    const second = applyPut(first.history, 'k', 'Unversioned', version('x2'));
    expect(second.history?.versions).toEqual([{ ...version('x2'), versionId: NULL_VERSION }]);
    expect(second.dropped).toEqual([{ ...version('x1'), versionId: NULL_VERSION }]);
    const del = applyDelete(second.history, 'k', 'Unversioned', undefined, marker('m'));
    expect(del).toMatchObject({ history: undefined, eventName: 'ObjectRemoved:Delete', deleteMarker: false });
    expect(del.versionId).toBeUndefined();
    expect(resolveRead(del.history)).toEqual({ type: 'no-such-key' });
  });
});
