import { describe, expect, it } from 'vitest';
import type { S3Event } from 'aws-lambda';
import { s3EventRecord as record } from '../../helpers/s3-event-record';
import { decodeS3Key, parseRecord, parseS3Event } from '../../../core/s3/event';
import { S3EventRecordError } from '../../../core/s3/s3-errors';


describe('decodeS3Key', () => {
  it('turns + into a space and decodes UTF-8 percent escapes', () => {
    expect(decodeS3Key('my+file%2B1%C3%A9.txt')).toBe('my file+1é.txt');
    expect(decodeS3Key('dir/sub+dir/%E2%9C%93.bin')).toBe('dir/sub dir/✓.bin');
  });
  it('rejects malformed escapes with a typed error naming the key', () => {
    expect(() => decodeS3Key('bad%E2%9C')).toThrow(S3EventRecordError);
    expect(() => decodeS3Key('bad%E2%9C')).toThrow(/bad%E2%9C/);
  });
});

describe('parseRecord', () => {
  it('acts on ObjectCreated:* with the decoded key, size, unquoted eTag and upper-case sequencer', () => {
    const parsed = parseRecord(record({ key: 'a+b%2Bc.txt', eTag: '"abc"', sequencer: '00ab' }));
    expect(parsed).toEqual({
      type: 'change',
      change: { kind: 'created', eventName: 'ObjectCreated:Put', bucket: 'b', key: 'a b+c.txt', size: 5, eTag: 'abc', sequencer: '00AB', eventTime: '2026-11-21T10:00:00.000Z' },
    });
  });
  it('keeps versionId when the bucket is versioned', () => {
    const parsed = parseRecord(record({ versionId: 'v1' }));
    expect(parsed.type === 'change' && parsed.change.versionId).toBe('v1');
  });
  it('acts on ObjectRemoved:* without size or eTag', () => {
    const r = record({ eventName: 'ObjectRemoved:Delete' });
    delete (r.s3.object as { size?: number }).size;
    delete (r.s3.object as { eTag?: string }).eTag;
    const parsed = parseRecord(r);
    expect(parsed.type).toBe('change');
    expect(parsed.type === 'change' && parsed.change.kind).toBe('removed');
  });
  it('ignores other event types', () => {
    for (const eventName of ['ObjectRestore:Completed', 'ObjectTagging:Put', 's3:TestEvent']) {
      expect(parseRecord(record({ eventName }))).toEqual({ type: 'ignored', eventName, reason: 'unsupported-event' });
    }
  });
  it('reports a created record without size, eTag or a hex sequencer as invalid, naming the field', () => {
    const noSize = record();
    delete (noSize.s3.object as { size?: number }).size;
    const p1 = parseRecord(noSize);
    expect(p1.type === 'invalid' && p1.error.message).toMatch(/s3\.object\.size/);
    const p2 = parseRecord(record({ sequencer: 'xyz' }));
    expect(p2.type === 'invalid' && p2.error.message).toMatch(/sequencer/);
    const p3 = parseRecord(record({ eventTime: 'yesterday' }));
    expect(p3.type === 'invalid' && p3.error.message).toMatch(/eventTime/);
  });
  it('handles every record of an event, in order', () => {
    const event: S3Event = { Records: [record({ key: 'one' }), record({ eventName: 'ObjectRestore:Post' }), record({ key: 'two' })] };
    expect(parseS3Event(event).map((p) => (p.type === 'change' ? p.change.key : p.type))).toEqual(['one', 'ignored', 'two']);
  });
});
