/**
 * The adaptive reader over real HTTP: the local S3, and the benchmark's throttling proxy in front of it
 * for a slow connection. Checks that stopping the first stream mid-body (destroying a real
 * IncomingMessage) and reading the rest as ranges gives exactly the object, and that the requests
 * the reader made are the ones expected (counted at the SDK boundary by a middleware).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BUCKET, sha256, startS3Rig, type S3Rig } from '../../helpers/s3-handler-rig';
import { localS3ClientConfig, LOCAL_S3_ACCESS_KEY_ID, LOCAL_S3_SECRET_ACCESS_KEY } from '../../../sandbox/local-s3';
import { startThrottleProxy, type ThrottleProxy } from '../../../bench/throttle-proxy';
import { hashObject } from '../../../core/s3/object-hash';

const MiB = 1024 * 1024;
const SIZE = 6 * MiB + 4321;

/**
 * A client whose GetObject ranges (or `whole`) are recorded, with the most ranged bodies open at once
 * (from the request until its body closes): parallel reading shows there, not on a stopwatch.
 */
function countingClient(endpoint: string): { client: S3Client; gets: string[]; mostRangesOpen: () => number; rangesOpen: () => number } {
  const client = new S3Client(localS3ClientConfig(endpoint, { accessKeyId: LOCAL_S3_ACCESS_KEY_ID, secretAccessKey: LOCAL_S3_SECRET_ACCESS_KEY }));
  const gets: string[] = [];
  let open = 0;
  let most = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'GetObjectCommand') return next(args);
      const range = (args.input as { Range?: string }).Range;
      gets.push(range ?? 'whole');
      if (range === undefined) return next(args);
      open++;
      most = Math.max(most, open);
      let closed = false;
      const done = () => {
        if (closed) return;
        closed = true;
        open--;
      };
      try {
        const result = await next(args);
        const body = (result.output as { Body?: NodeJS.ReadableStream & { once(e: string, f: () => void): unknown } }).Body;
        if (body) body.once('close', done);
        else done();
        return result;
      } catch (err) {
        done();
        throw err;
      }
    },
    { step: 'initialize', name: 'countGets' },
  );
  return { client, gets, mostRangesOpen: () => most, rangesOpen: () => open };
}

describe('adaptive read over HTTP', () => {
  let rig: S3Rig;
  let proxy: ThrottleProxy;
  const data = randomBytes(SIZE);

  beforeAll(async () => {
    rig = await startS3Rig();
    proxy = await startThrottleProxy({ targetHost: rig.s3.host, targetPort: rig.s3.port, bytesPerSecond: 4_000_000 });
    await rig.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'adaptive.bin', Body: data }));
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await rig?.close();
  });

  it('a slow connection: the first stream stops where it was measured, the rest comes as ranges, the hash is exact', async () => {
    const { client, gets, mostRangesOpen, rangesOpen } = countingClient(`http://127.0.0.1:${proxy.port}`);
    try {
      const result = await hashObject(client, { bucket: BUCKET, key: 'adaptive.bin', size: SIZE }, { partSizeBytes: MiB, concurrency: 4 });
      expect(result.hash).toBe(sha256(data));
      expect(result.read).toMatchObject({ mode: 'switched' });
      const at = result.read!.switchedAt!;
      expect(at).toBeGreaterThan(0);
      expect(at).toBeLessThanOrEqual(MiB);
      const expected = ['whole'];
      for (let s = at; s < SIZE; s += MiB) expected.push(`bytes=${s}-${Math.min(s + MiB, SIZE) - 1}`);
      expect(gets).toEqual(expected);
      // The ranges ran side by side, not one after another (every body was seen to close, so the count
      // is real; the reader may keep up to twice the concurrency open); how much faster belongs to `npm run bench`.
      await expect.poll(rangesOpen, { timeout: 5_000 }).toBe(0);
      expect(mostRangesOpen()).toBeGreaterThanOrEqual(2);
      expect(mostRangesOpen()).toBeLessThanOrEqual(2 * 4);
    } finally {
      client.destroy();
    }
  }, 30_000);

  it('the same object, unthrottled and forced to one stream, or ranged from the start: the same hash', async () => {
    for (const [parallelBelowMiBPerS, mode, requests] of [
      [0, 'single', 1],
      [Infinity, 'ranged', 7],
    ] as const) {
      const { client, gets } = countingClient(rig.s3.endpoint);
      try {
        const result = await hashObject(client, { bucket: BUCKET, key: 'adaptive.bin', size: SIZE }, { partSizeBytes: MiB, concurrency: 4, parallelBelowMiBPerS });
        expect(result.hash).toBe(sha256(data));
        expect(result.read?.mode).toBe(mode);
        expect(gets).toHaveLength(requests);
      } finally {
        client.destroy();
      }
    }
  }, 30_000);
});
