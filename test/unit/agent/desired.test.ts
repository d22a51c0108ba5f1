import { describe, expect, it } from 'vitest';
import { parseFileDesired, parseS3Url } from '../../../agent/desired';

const HASH = 'AB'.repeat(32);

describe('parseFileDesired', () => {
  it('accepts the seed format (url and hash only) and lower-cases the hash', () => {
    expect(parseFileDesired({ url: 's3://my-bucket/dir/a b.txt', hash: HASH })).toMatchObject({ bucket: 'my-bucket', key: 'dir/a b.txt', hash: 'ab'.repeat(32) });
  });

  it('uses versionId and size when present and keeps other fields opaque', () => {
    const raw = { url: 's3://b1b/k', hash: HASH, versionId: 'abc', size: 12, sequencer: '00FF' };
    const d = parseFileDesired(raw);
    expect(d).toMatchObject({ versionId: 'abc', size: 12 });
    expect(d.raw).toBe(raw);
  });

  it.each([
    [null, 'must be an object'],
    [{ hash: HASH }, 'no url'],
    [{ url: 's3://bucket/k', hash: 'abc' }, 'not a 64-character hex SHA-256'],
    [{ url: 'https://bucket/k', hash: HASH }, 'not of the form s3://bucket/key'],
    [{ url: 's3://bucket/', hash: HASH }, 'not of the form'],
    [{ url: 's3://Bad_Bucket/k', hash: HASH }, 'not a valid bucket name'],
  ])('refuses %j with INVALID_DESIRED', (value, message) => {
    expect(() => parseFileDesired(value)).toThrow(expect.objectContaining({ code: 'INVALID_DESIRED', retryable: false }));
    expect(() => parseFileDesired(value)).toThrow(message);
  });

  it('takes the key literally (the Lambda writes it decoded)', () => {
    expect(parseS3Url('s3://bucket/a+b%20c')).toEqual({ bucket: 'bucket', key: 'a+b%20c' });
  });
});
