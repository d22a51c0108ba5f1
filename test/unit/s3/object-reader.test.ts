/**
 * The ordered parallel reader against an S3 mocked at the SDK boundary, where the test controls
 * how fast each ranged GET answers.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, S3Client, type GetObjectCommandInput, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { readObject } from '../../../core/s3/object-reader';
import { S3ObjectChangedError } from '../../../core/s3/s3-errors';

const s3 = new S3Client({ region: 'us-east-1' });
const s3Mock = mockClient(s3);
afterEach(() => s3Mock.reset());

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function serve(data: Buffer, delayFor: (start: number) => number, eTag = 'e') {
  const state = { inFlight: 0, maxInFlight: 0, requested: [] as number[], pulled: 0 };
  s3Mock.on(GetObjectCommand).callsFake(async (input: GetObjectCommandInput) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '');
    const [a, b] = m ? [Number(m[1]), Number(m[2])] : [0, data.length - 1];
    state.requested.push(a);
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    await sleep(delayFor(a));
    // Split the part into a few chunks, as a socket would.
    const slice = data.subarray(a, b + 1);
    const chunks = [slice.subarray(0, slice.length >> 1), slice.subarray(slice.length >> 1)].filter((c) => c.length > 0);
    // Count the bytes the reader actually pulls (what it may have to hold), not what is offered.
    const body = Readable.from(
      (function* () {
        for (const c of chunks) {
          state.pulled += c.length;
          yield Buffer.from(c);
        }
      })(),
      { highWaterMark: 1 },
    );
    body.on('close', () => state.inFlight--);
    return { Body: body as unknown as GetObjectCommandOutput['Body'], ETag: `"${eTag}"` };
  });
  return state;
}

async function readAll(target: Parameters<typeof readObject>[1], options: Parameters<typeof readObject>[2]) {
  const parts: Buffer[] = [];
  const n = await readObject(s3, target, options, (chunk) => parts.push(Buffer.from(chunk))); // the sink must copy
  const all = Buffer.concat(parts);
  expect(n).toBe(all.length);
  return all;
}

describe('readObject', () => {
  it('returns exactly the object, in order, for any size, part size, concurrency and answer order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 100, max: 1200 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 8, maxLength: 8 }),
        async (size, partSize, concurrency, delays) => {
          s3Mock.reset();
          const data = Buffer.alloc(size);
          for (let i = 0; i < size; i++) data[i] = (i * 13 + (i >> 7)) & 0xff;
          serve(data, (start) => delays[(start / partSize) % delays.length]!);
          const got = await readAll({ bucket: 'b', key: 'k', size, eTag: 'e' }, { partSizeBytes: partSize, concurrency });
          expect(sha(got)).toBe(sha(data));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('holds at most `concurrency` parts of data, and opens requests at most one round ahead, while the head part is slow (backpressure)', async () => {
    const partSize = 1000;
    const data = Buffer.alloc(20 * partSize, 1);
    // The head part of each window is slow; all others answer at once.
    const state = serve(data, (start) => (start % (4 * partSize) === 0 ? 30 : 0));
    const consumed: number[] = [];
    let bytes = 0;
    await readObject(s3, { bucket: 'b', key: 'k', size: data.length }, { partSizeBytes: partSize, concurrency: 4, parallelBelowMiBPerS: Infinity }, (chunk) => {
      bytes += chunk.byteLength;
      consumed.push(bytes);
      // Data pulled but not yet handed to the sink fits in the 4 part buffers.
      expect(state.pulled - bytes).toBeLessThanOrEqual(4 * partSize);
      // Requests (headers only, bodies waiting) at most one round of 4 beyond the buffers.
      const fullyConsumedParts = Math.floor(bytes / partSize);
      expect(state.requested.length).toBeLessThanOrEqual(fullyConsumedParts + 2 * 4);
    });
    expect(bytes).toBe(data.length);
    expect(state.maxInFlight).toBeLessThanOrEqual(2 * 4);
    expect(state.requested).toHaveLength(20);
  });

  it('fails with S3ObjectChangedError when a response carries another ETag (a server ignoring If-Match)', async () => {
    serve(Buffer.alloc(10), () => 0, 'other');
    await expect(readAll({ bucket: 'b', key: 'k', size: 10, eTag: 'e' }, { partSizeBytes: 100, concurrency: 2 })).rejects.toBeInstanceOf(S3ObjectChangedError);
  });

  it('fails with S3ObjectChangedError when the whole object is not the announced size', async () => {
    serve(Buffer.alloc(12), () => 0);
    await expect(readAll({ bucket: 'b', key: 'k', size: 10, eTag: 'e' }, { partSizeBytes: 100, concurrency: 2 })).rejects.toThrow(/more than 10 bytes/);
    serve(Buffer.alloc(8), () => 0);
    await expect(readAll({ bucket: 'b', key: 'k', size: 10, eTag: 'e' }, { partSizeBytes: 100, concurrency: 2 })).rejects.toBeInstanceOf(S3ObjectChangedError);
  });

  it('sends If-Match with the quoted eTag when there is no versionId', async () => {
    serve(Buffer.alloc(10), () => 0);
    await readAll({ bucket: 'b', key: 'k', size: 10, eTag: 'e' }, { partSizeBytes: 100, concurrency: 2 });
    const input = s3Mock.commandCalls(GetObjectCommand)[0]!.args[0].input;
    expect(input.IfMatch).toBe('"e"');
    expect(input.Range).toBeUndefined(); // one part: a plain GET
  });
});
