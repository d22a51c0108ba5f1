/**
 * The adaptive reader against an S3 mocked at the SDK boundary: one stream first, ranged GETs for
 * the rest only when that stream is slow. The test controls how fast the whole-object GET delivers,
 * on a virtual clock given to the reader: a chunk `gapMs` apart advances it by exactly `gapMs`, so
 * "fast" and "slow" do not depend on how loaded the machine is.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, S3Client, type GetObjectCommandInput, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { readObject, type ReadMode, type ReadOptions } from '../../../core/s3/object-reader';
import { S3ObjectChangedError, S3ObjectMissingError } from '../../../core/s3/s3-errors';

const s3 = new S3Client({ region: 'us-east-1' });
const s3Mock = mockClient(s3);
afterEach(() => s3Mock.reset());

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** The reader's clock: moves only when the mocked network delivers. */
let virtualMs = 0;
const now = () => virtualMs;

function pattern(size: number): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 13 + (i >> 7)) & 0xff;
  return data;
}

interface Served {
  /** Range start of every GET, `whole` for the unranged one, in request order. */
  requests: (number | 'whole')[];
  /** Bytes the whole-object body actually produced (pulled by the reader). */
  wholePulled: number;
  /** Bodies handed out and not yet closed. */
  open: number;
  bodies: Readable[];
  /** Bytes the sink had received when the first ranged GET was sent. */
  sunkAtFirstRange?: number;
}

interface Whole {
  chunk: number;
  gapMs: number;
  /** Called with the bytes pulled so far after each chunk of the whole-object body. */
  onChunk?: (pulled: number) => void;
}

/** Resolves once every body handed out has closed (each closes soon after it is destroyed). */
const allBodiesClosed = (state: Served) => vi.waitFor(() => expect(state.open).toBe(0), { timeout: 10_000, interval: 5 });

/**
 * The whole-object GET yields `chunk`-byte chunks, `gapMs` apart (0: as fast as it is read);
 * ranged GETs answer at once in two chunks. `onRange` runs as each ranged GET arrives.
 */
function serve(data: Buffer, whole: Whole, sunk: () => number, onRange?: (start: number) => void, eTag = 'e'): Served {
  const state: Served = { requests: [], wholePulled: 0, open: 0, bodies: [] };
  const track = (body: Readable) => {
    state.open++;
    state.bodies.push(body);
    body.on('close', () => state.open--);
    return body as unknown as GetObjectCommandOutput['Body'];
  };
  s3Mock.on(GetObjectCommand).callsFake(async (input: GetObjectCommandInput) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '');
    if (!m) {
      state.requests.push('whole');
      const body = Readable.from(
        (async function* () {
          for (let at = 0; at < data.length; at += whole.chunk) {
            if (whole.gapMs > 0) {
              // Virtual time only; the turn of the event loop lets the reader see the chunks one by one.
              await new Promise<void>((resolve) => setImmediate(resolve));
              virtualMs += whole.gapMs;
            }
            const c = Buffer.from(data.subarray(at, at + whole.chunk));
            state.wholePulled += c.length;
            whole.onChunk?.(state.wholePulled);
            yield c;
          }
        })(),
        { highWaterMark: 1 },
      );
      return { Body: track(body), ETag: `"${eTag}"` };
    }
    const [a, b] = [Number(m[1]), Number(m[2])];
    if (state.sunkAtFirstRange === undefined) state.sunkAtFirstRange = sunk();
    state.requests.push(a);
    onRange?.(a);
    const slice = data.subarray(a, b + 1);
    const chunks = [slice.subarray(0, slice.length >> 1), slice.subarray(slice.length >> 1)].filter((c) => c.length > 0).map((c) => Buffer.from(c));
    return { Body: track(Readable.from(chunks, { highWaterMark: 1 })), ETag: `"${eTag}"` };
  });
  return state;
}

async function read(data: Buffer, whole: Whole, options: Omit<ReadOptions, 'onMode'>, onRange?: (start: number) => void) {
  let sunk = 0;
  const hash = createHash('sha256');
  const modes: ReadMode[] = [];
  const state = serve(data, whole, () => sunk, onRange);
  const n = await readObject(s3, { bucket: 'b', key: 'k', size: data.length, eTag: 'e' }, { ...options, now, onMode: (m) => modes.push(m) }, (chunk) => {
    sunk += chunk.byteLength;
    hash.update(chunk);
  });
  expect(n).toBe(data.length);
  expect(sunk).toBe(data.length);
  return { state, modes, hash: hash.digest('hex') };
}

/** The ranged GETs a switch at `from` must send: consecutive parts from there to the end. */
function rangesFrom(from: number, size: number, partSize: number): number[] {
  const starts: number[] = [];
  for (let s = from; s < size; s += partSize) starts.push(s);
  return starts;
}

describe('readObject, adaptive', () => {
  it('reads a fast stream to the end with one GET and never issues a ranged GET', async () => {
    // No virtual time passes while the mock delivers: as fast as a stream can be.
    const partSize = 4 * 1024 * 1024;
    const data = pattern(2 * partSize + 12345);
    const { state, modes, hash } = await read(data, { chunk: 64 * 1024, gapMs: 0 }, { partSizeBytes: partSize, concurrency: 8 });
    expect(hash).toBe(sha(data));
    expect(state.requests).toEqual(['whole']);
    expect(s3Mock.commandCalls(GetObjectCommand)[0]!.args[0].input).toMatchObject({ IfMatch: '"e"' });
    expect(modes).toHaveLength(1);
    expect(modes[0]).toMatchObject({ mode: 'single' });
    expect(modes[0]!.mibPerS).toBeGreaterThanOrEqual(200);
  });

  it('switches a slow stream to ranged GETs from exactly one part in, cutting the chunk that straddles it', async () => {
    const partSize = 1000;
    const data = pattern(10_123);
    // 300-byte chunks: 900 + 300 straddles 1000, so that chunk is hashed up to 1000 and dropped after.
    const { state, modes, hash } = await read(data, { chunk: 300, gapMs: 3 }, { partSizeBytes: partSize, concurrency: 3 });
    expect(hash).toBe(sha(data));
    expect(modes).toEqual([expect.objectContaining({ mode: 'switched', switchedAt: 1000 })]);
    expect(state.requests).toEqual(['whole', ...rangesFrom(1000, data.length, partSize)]);
    expect(state.sunkAtFirstRange).toBe(1000);
    expect(state.wholePulled).toBeLessThan(data.length); // the slow body was stopped, not drained
    await allBodiesClosed(state);
    const last = s3Mock.commandCalls(GetObjectCommand).at(-1)!.args[0].input;
    expect(last.Range).toBe(`bytes=10000-${data.length - 1}`);
  });

  it('switches exactly at a part boundary when a chunk ends there', async () => {
    const partSize = 1000;
    const data = pattern(5000); // the ranges after the switch end exactly at the end too
    const { state, modes, hash } = await read(data, { chunk: 500, gapMs: 3 }, { partSizeBytes: partSize, concurrency: 2 });
    expect(hash).toBe(sha(data));
    expect(modes[0]).toMatchObject({ mode: 'switched', switchedAt: 1000 });
    expect(state.requests).toEqual(['whole', 1000, 2000, 3000, 4000]);
    expect(state.sunkAtFirstRange).toBe(1000);
  });

  it('switches where the time window closed when a part takes longer than the window to arrive', async () => {
    const partSize = 1000;
    const data = pattern(4321);
    const { state, modes, hash } = await read(data, { chunk: 100, gapMs: 10 }, { partSizeBytes: partSize, concurrency: 2, probeMs: 25 });
    expect(hash).toBe(sha(data));
    const at = modes[0]!.switchedAt!;
    expect(modes[0]!.mode).toBe('switched');
    // 100 bytes every 10 ms: the 25 ms window closes after the third chunk.
    expect(at).toBe(300);
    expect(state.sunkAtFirstRange).toBe(at);
    expect(state.requests).toEqual(['whole', ...rangesFrom(at, data.length, partSize)]);
  });

  it('returns exactly the object for any size, chunking, switch point and concurrency', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 6000 }),
        fc.integer({ min: 100, max: 1200 }),
        fc.integer({ min: 1, max: 700 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(0, 200, 1e9, Infinity),
        fc.constantFrom(0, 250),
        async (size, partSize, chunk, concurrency, parallelBelowMiBPerS, probeMs) => {
          s3Mock.reset();
          const data = pattern(size);
          const { state, modes, hash } = await read(data, { chunk, gapMs: 0 }, { partSizeBytes: partSize, concurrency, parallelBelowMiBPerS, probeMs });
          expect(hash).toBe(sha(data));
          if (size <= partSize) expect(state.requests).toEqual(['whole']);
          const mode = modes[0];
          if (mode?.mode === 'switched') {
            expect(state.sunkAtFirstRange).toBe(mode.switchedAt);
            expect(state.requests).toEqual(['whole', ...rangesFrom(mode.switchedAt!, size, partSize)]);
          }
          if (mode?.mode === 'single') expect(state.requests).toEqual(['whole']);
          if (mode?.mode === 'ranged') expect(state.requests).toEqual(rangesFrom(0, size, partSize));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reads one stream, however slow, with concurrency 1 or a threshold of 0; ranged from byte 0 with Infinity', async () => {
    const data = pattern(3000);
    for (const options of [
      { partSizeBytes: 500, concurrency: 1 },
      { partSizeBytes: 500, concurrency: 4, parallelBelowMiBPerS: 0 },
    ]) {
      s3Mock.reset();
      const { state, modes, hash } = await read(data, { chunk: 100, gapMs: 1 }, options);
      expect(hash).toBe(sha(data));
      expect(state.requests).toEqual(['whole']);
      expect(modes).toEqual([{ mode: 'single' }]);
    }
    s3Mock.reset();
    const { state, modes, hash } = await read(data, { chunk: 100, gapMs: 0 }, { partSizeBytes: 500, concurrency: 4, parallelBelowMiBPerS: Infinity });
    expect(hash).toBe(sha(data));
    expect(state.requests).toEqual([0, 500, 1000, 1500, 2000, 2500]);
    expect(modes).toEqual([{ mode: 'ranged' }]);
  });

  it('aborted just as it switches: rejects, sends no further requests and leaves no body open', async () => {
    const controller = new AbortController();
    const data = pattern(20_000);
    const state = serve(data, { chunk: 250, gapMs: 2 }, () => 0, () => controller.abort(new Error('lambda timeout')));
    const sink: number[] = [];
    await expect(
      readObject(s3, { bucket: 'b', key: 'k', size: data.length, eTag: 'e' }, { partSizeBytes: 1000, concurrency: 4, signal: controller.signal, now }, (c) => sink.push(c.byteLength)),
    ).rejects.toThrow(/lambda timeout/);
    // Requests are sent only from the read loop, which ended with the rejection: once the bodies
    // it had opened are closed, the count is final.
    const sent = state.requests.length;
    await allBodiesClosed(state);
    expect(state.requests.length).toBe(sent);
    expect(state.requests.filter((r) => r !== 'whole').length).toBeLessThanOrEqual(1 + 2 * 4);
    expect(state.open).toBe(0);
    expect(state.bodies.every((b) => b.destroyed)).toBe(true);
  });

  it('aborted while the first stream is still measured: rejects and destroys that body', async () => {
    const controller = new AbortController();
    const data = pattern(20_000);
    // Aborted after 300 bytes: the window closes at 1000 bytes (or 250 virtual ms, 5 per chunk), so it is still measuring.
    const state = serve(data, { chunk: 100, gapMs: 5, onChunk: (pulled) => pulled >= 300 && controller.abort(new Error('lambda timeout')) }, () => 0);
    await expect(
      readObject(s3, { bucket: 'b', key: 'k', size: data.length, eTag: 'e' }, { partSizeBytes: 1000, concurrency: 4, signal: controller.signal, now }, () => undefined),
    ).rejects.toThrow(/lambda timeout/);
    await allBodiesClosed(state);
    expect(state.requests).toEqual(['whole']);
    expect(state.open).toBe(0);
    expect(state.wholePulled).toBeLessThan(1000);
  });

  it('keeps the errors of the first stream: missing, another ETag, another length', async () => {
    s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error('gone'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }));
    await expect(readObject(s3, { bucket: 'b', key: 'k', size: 5000, eTag: 'e' }, { partSizeBytes: 1000, concurrency: 4 }, () => undefined)).rejects.toBeInstanceOf(S3ObjectMissingError);

    s3Mock.reset();
    serve(pattern(5000), { chunk: 100, gapMs: 0 }, () => 0, undefined, 'other');
    await expect(readObject(s3, { bucket: 'b', key: 'k', size: 5000, eTag: 'e' }, { partSizeBytes: 1000, concurrency: 4 }, () => undefined)).rejects.toBeInstanceOf(S3ObjectChangedError);

    for (const actual of [4000, 6000]) {
      s3Mock.reset();
      serve(pattern(actual), { chunk: 100, gapMs: 0 }, () => 0);
      const err = await readObject(s3, { bucket: 'b', key: 'k', size: 5000, eTag: 'e' }, { partSizeBytes: 1000, concurrency: 4, parallelBelowMiBPerS: 0 }, () => undefined).catch((e: unknown) => e);
      if (actual < 5000) expect(err).toBeInstanceOf(S3ObjectChangedError);
      else expect(String(err)).toMatch(/more than 5000 bytes/);
    }
  });
});
