import { describe, expect, it } from 'vitest';
import { ChunkedBodyError, decodeAwsChunked } from '../../../sandbox/s3/aws-chunked';

async function decode(wire: string, splitAt: number[] = [], expected?: number): Promise<string> {
  const bytes = Buffer.from(wire, 'latin1');
  const cuts = [0, ...splitAt, bytes.length];
  const pieces = cuts.slice(1).map((end, i) => bytes.subarray(cuts[i], end));
  const out: Buffer[] = [];
  for await (const b of decodeAwsChunked((async function* () { yield* pieces; })(), expected)) out.push(Buffer.from(b));
  return Buffer.concat(out).toString('latin1');
}

const unsigned = '6\r\nhello \r\n5\r\nworld\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n';
const signed = `6;chunk-signature=${'a'.repeat(64)}\r\nhello \r\n5;chunk-signature=${'b'.repeat(64)}\r\nworld\r\n0;chunk-signature=${'c'.repeat(64)}\r\n\r\n`;

describe('decodeAwsChunked', () => {
  it('yields exactly the object bytes of unsigned (with trailer) and signed bodies, however the body is split', async () => {
    for (const wire of [unsigned, signed]) {
      for (let at = 0; at <= wire.length; at++) expect(await decode(wire, [at], 11)).toBe('hello world');
    }
  });

  it('refuses a body that ends early, a malformed header, or another length than declared', async () => {
    await expect(decode('6\r\nhel')).rejects.toBeInstanceOf(ChunkedBodyError);
    await expect(decode('zz\r\nhello\r\n0\r\n\r\n')).rejects.toThrow(/bad chunk header/);
    await expect(decode(unsigned, [], 12)).rejects.toThrow(/decoded to 11 bytes/);
  });
});
