/**
 * The handler against AWS mocked at the SDK boundary (aws-sdk-client-mock): the paths a real
 * S3 or shadow service cannot be made to take on demand (checksums, denials, throttling, 409s).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, HeadObjectCommand, NoSuchKey, S3Client, type GetObjectCommandInput } from '@aws-sdk/client-s3';
import { ConflictException, GetThingShadowCommand, type GetThingShadowCommandOutput, IoTDataPlaneClient, ResourceNotFoundException, ThrottlingException, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import type { S3Event } from 'aws-lambda';
import { createHandler } from '../../../lambda/object-to-shadow';
import { parseObjectConfig, ENV } from '../../../core/s3/config';
import { ObjectEventFailedError, S3ObjectError } from '../../../core/s3/s3-errors';
import { silentLogger } from '../../../core/logger';
import { s3EventRecord as record } from '../../helpers/s3-event-record';

const s3 = new S3Client({ region: 'us-east-1' });
const iot = new IoTDataPlaneClient({ region: 'us-east-1' });
const s3Mock = mockClient(s3);
const iotMock = mockClient(iot);

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const body = (bytes: Uint8Array) => Readable.from([Buffer.from(bytes)]) as unknown as GetObjectCommandInput & never;
const sdkError = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const payload = (doc: unknown) => Buffer.from(JSON.stringify(doc)) as unknown as GetThingShadowCommandOutput['payload'];
const shadowDoc = (version: number, desired?: Record<string, unknown>) => ({ payload: payload({ state: desired ? { desired } : {}, version }) });
const event = (...records: ReturnType<typeof record>[]): S3Event => ({ Records: records });
const updates = () => iotMock.commandCalls(UpdateThingShadowCommand).map((c) => JSON.parse(Buffer.from(c.args[0].input.payload as Uint8Array).toString('utf8')) as Record<string, unknown>);

function handler(env: Record<string, string> = {}) {
  const config = parseObjectConfig({ [ENV.targetThings]: 'lamp', [ENV.conflictRetries]: '2', ...env });
  return createHandler({ s3, iotData: iot, config, logger: silentLogger });
}

async function failure(p: Promise<unknown>): Promise<ObjectEventFailedError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ObjectEventFailedError);
    return err as ObjectEventFailedError;
  }
  throw new Error('expected the handler to throw');
}

/** GetObject calls for the objects themselves (not their companion release objects, read on every event). */
// The object's own reads: not its companion's or its release counter's (core/release/companion-read.ts).
const objectGets = () => s3Mock.commandCalls(GetObjectCommand).filter((c) => !/\.shadowplug-release(-counter)?$/.test(String(c.args[0].input.Key)));

beforeEach(() => {
  s3Mock.reset();
  iotMock.reset();
  iotMock.on(GetThingShadowCommand).rejects(new ResourceNotFoundException({ message: 'No shadow exists', $metadata: { httpStatusCode: 404 } }));
  iotMock.on(UpdateThingShadowCommand).resolves({ payload: payload({ version: 1 }) });
});
afterEach(() => {
  s3Mock.reset();
  iotMock.reset();
});

describe('object-to-shadow handler (SDK mocked)', () => {
  describe('hashing', () => {
    it('uses a FULL_OBJECT ChecksumSHA256 from HeadObject (base64 → hex) and reads nothing', async () => {
      const digest = createHash('sha256').update('hello').digest();
      s3Mock.on(HeadObjectCommand).resolves({ ChecksumType: 'FULL_OBJECT', ChecksumSHA256: digest.toString('base64'), ETag: '"e1"', ContentLength: 5 });
      const outcome = await handler()(event(record({ key: 'a.txt', eTag: 'e1', size: 5 })));
      expect(objectGets()).toHaveLength(0);
      const heads = s3Mock.commandCalls(HeadObjectCommand).map((c) => c.args[0].input);
      // First the key's current state (no version, no condition), then the checksum of exactly that object.
      expect(heads[0]).toEqual({ Bucket: 'b', Key: 'a.txt' });
      expect(heads[1]).toMatchObject({ ChecksumMode: 'ENABLED', IfMatch: '"e1"' });
      expect(outcome.records[0]).toMatchObject({ status: 'applied', hash: digest.toString('hex'), hashSource: 'checksum' });
      expect(updates()[0]).toMatchObject({ state: { desired: { s3: { url: 's3://b/a.txt', hash: digest.toString('hex'), size: 5 } } } });
    });

    it('reads and hashes when the checksum is COMPOSITE (multipart upload)', async () => {
      s3Mock.on(HeadObjectCommand).resolves({ ChecksumType: 'COMPOSITE', ChecksumSHA256: 'x'.repeat(43) + '=', ETag: '"e1"', ContentLength: 5 });
      s3Mock.on(GetObjectCommand).callsFake(() => ({ Body: body(Buffer.from('hello')), ETag: '"e1"' }));
      const outcome = await handler()(event(record({ eTag: 'e1', size: 5 })));
      expect(outcome.records[0]).toMatchObject({ status: 'applied', hash: sha('hello'), hashSource: 'read' });
    });

    it('reads large objects as explicit ranges pinned by VersionId, and hashes them in order (ranged from the start)', async () => {
      const data = Buffer.alloc(300_000);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 251;
      s3Mock.on(HeadObjectCommand).resolves({ ETag: '"e1"', ContentLength: data.length, VersionId: 'v7' });
      s3Mock.on(GetObjectCommand).callsFake(async (input: GetObjectCommandInput) => {
        const [, a, b] = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '')!;
        // Later parts answer first, so ordering is the reader's job.
        await new Promise((r) => setTimeout(r, Math.max(0, 20 - Number(a) / 20_000)));
        return { Body: body(data.subarray(Number(a), Number(b) + 1)), ETag: '"e1"' };
      });
      const outcome = await handler({ [ENV.partSizeBytes]: String(64 * 1024), [ENV.readConcurrency]: '3', [ENV.parallelBelowMiBPerS]: 'Infinity' })(event(record({ eTag: 'e1', size: data.length, versionId: 'v7' })));
      expect(outcome.records[0]).toMatchObject({ status: 'applied', hash: sha(data) });
      const inputs = objectGets().map((c) => c.args[0].input);
      expect(inputs.map((i) => i.Range)).toEqual(['bytes=0-65535', 'bytes=65536-131071', 'bytes=131072-196607', 'bytes=196608-262143', 'bytes=262144-299999']);
      expect(inputs.every((i) => i.VersionId === 'v7' && i.IfMatch === undefined)).toBe(true);
      expect(updates()[0]).toMatchObject({ state: { desired: { s3: { versionId: 'v7' } } } });
    });
  });

  describe('objects that are gone or changed', () => {
    it('skips an object that keeps vanishing between HeadObject and the read (NoSuchKey) with nothing written', async () => {
      s3Mock.on(HeadObjectCommand).resolves({ ETag: '"e1"', ContentLength: 5 });
      s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'gone', $metadata: { httpStatusCode: 404 } }));
      const outcome = await handler()(event(record({ eTag: 'e1', size: 5 })));
      expect(outcome.records[0]).toMatchObject({ status: 'skipped', reason: 'object-missing' });
      expect(iotMock.commandCalls(UpdateThingShadowCommand)).toHaveLength(0);
    });

    it('skips an object that keeps being overwritten while it is read (412 on If-Match), after three looks', async () => {
      s3Mock.on(HeadObjectCommand).resolves({ ETag: '"e1"', ContentLength: 5 });
      s3Mock.on(GetObjectCommand).rejects(sdkError('PreconditionFailed', 412));
      const outcome = await handler()(event(record({ eTag: 'e1', size: 5 })));
      expect(outcome.records[0]).toMatchObject({ status: 'skipped', reason: 'object-changed' });
      expect(objectGets()).toHaveLength(3);
      expect(iotMock.commandCalls(UpdateThingShadowCommand)).toHaveLength(0);
    });

    it('names the object the key holds now, not the one an old event announced', async () => {
      s3Mock.on(HeadObjectCommand).resolves({ ETag: '"e2"', ContentLength: 5 });
      s3Mock.on(GetObjectCommand).callsFake(() => ({ Body: body(Buffer.from('world')), ETag: '"e2"' }));
      const outcome = await handler()(event(record({ eTag: 'e1', size: 5 })));
      expect(outcome.records[0]).toMatchObject({ status: 'applied', hash: sha('world') });
      expect(updates()[0]).toMatchObject({ state: { desired: { s3: { hash: sha('world'), eTag: 'e2' } } } });
    });

    it('throws a retryable S3_KEY_CHANGING when the key has changed again after each of three writes of its value', async () => {
      let version = 0;
      s3Mock.on(HeadObjectCommand).callsFake(() => ({ ChecksumType: 'FULL_OBJECT', ChecksumSHA256: createHash('sha256').update('x').digest('base64'), ETag: '"e"', ContentLength: 1, VersionId: `v${++version}` }));
      const err = await failure(handler()(event(record({ eTag: 'e', size: 1, versionId: 'v1' }))));
      expect(err.failures[0]).toMatchObject({ code: 'S3_KEY_CHANGING', retryable: true });
      const written = updates().map((u) => (u.state as { desired: { s3: { versionId: string } } }).desired.s3.versionId);
      expect(written).toHaveLength(3);
      expect(new Set(written).size).toBe(3);
    });

    it('clears a value naming a key that no longer exists, whatever the event (a late upload event included)', async () => {
      s3Mock.on(HeadObjectCommand).rejects(sdkError('NotFound', 404));
      iotMock.on(GetThingShadowCommand).resolves(shadowDoc(3, { s3: { url: 's3://b/a.txt', hash: 'h', versionId: 'v1', sequencer: '01', eventTime: '2026-11-21T10:00:00.000Z' } }));
      const outcome = await handler()(event(record({ eTag: 'e1', size: 5, versionId: 'v1' })));
      expect(outcome.records[0]).toMatchObject({ status: 'applied', things: [{ thing: 'lamp', result: 'cleared' }] });
      expect(updates()[0]).toEqual({ state: { desired: { s3: null } }, version: 3 });
      expect(objectGets()).toHaveLength(0);
    });
  });

  describe('errors that make Lambda retry', () => {
    it('throws S3_ACCESS_DENIED on AccessDenied, writing nothing', async () => {
      s3Mock.on(HeadObjectCommand).rejects(sdkError('Forbidden', 403));
      const err = await failure(handler()(event(record())));
      expect(err.failures[0]).toBeInstanceOf(S3ObjectError);
      expect(err.failures[0]).toMatchObject({ code: 'S3_ACCESS_DENIED', retryable: true, bucket: 'b', key: 'a.txt' });
      expect(err.failures[0]!.message).toMatch(/s3:\/\/b\/a\.txt/);
      expect(iotMock.commandCalls(UpdateThingShadowCommand)).toHaveLength(0);
    });

    it('throws a retryable S3_THROTTLED on SlowDown', async () => {
      s3Mock.on(HeadObjectCommand).resolves({ ETag: '"e1"', ContentLength: 5 });
      s3Mock.on(GetObjectCommand).rejects(sdkError('SlowDown', 503));
      const err = await failure(handler()(event(record({ eTag: 'e1', size: 5 }))));
      expect(err.failures[0]!.code).toBe('S3_THROTTLED');
      expect(err.retryable).toBe(true);
    });

    it('writes nothing when one ranged part fails', async () => {
      s3Mock.on(HeadObjectCommand).resolves({ ETag: '"e1"', ContentLength: 200_000 });
      s3Mock.on(GetObjectCommand).callsFake(async (input: GetObjectCommandInput) => {
        if (input.Range?.startsWith('bytes=131072')) throw sdkError('InternalError', 500);
        const [, a, b] = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '')!;
        return { Body: body(Buffer.alloc(Number(b) - Number(a) + 1)), ETag: '"e1"' };
      });
      const err = await failure(handler({ [ENV.partSizeBytes]: String(64 * 1024), [ENV.parallelBelowMiBPerS]: 'Infinity' })(event(record({ eTag: 'e1', size: 200_000 }))));
      expect(err.failures[0]!.code).toBe('S3_SERVER_ERROR');
      expect(iotMock.commandCalls(UpdateThingShadowCommand)).toHaveLength(0);
    });

    it('throws a retryable SHADOW_THROTTLED when the shadow service throttles', async () => {
      s3Mock.on(HeadObjectCommand).resolves({ ChecksumType: 'FULL_OBJECT', ChecksumSHA256: createHash('sha256').update('x').digest('base64'), ETag: '"e"', ContentLength: 5 });
      iotMock.on(UpdateThingShadowCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }));
      const err = await failure(handler()(event(record({ eTag: 'e', size: 5 }))));
      expect(err.failures[0]!.code).toBe('SHADOW_THROTTLED');
      expect(err.retryable).toBe(true);
      expect((err.outcome as { records: unknown[] }).records[0]).toMatchObject({ status: 'failed', things: [{ thing: 'lamp', result: 'failed' }] });
    });
  });

  describe('its metric line', () => {
    it('counts the failed shadow write (ShadowWritesFailed) before throwing for the retry', async () => {
      s3Mock.on(HeadObjectCommand).resolves({ ChecksumType: 'FULL_OBJECT', ChecksumSHA256: createHash('sha256').update('x').digest('base64'), ETag: '"e"', ContentLength: 5 });
      iotMock.on(UpdateThingShadowCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }));
      const lines: string[] = [];
      const config = parseObjectConfig({ [ENV.targetThings]: 'lamp,hall', [ENV.conflictRetries]: '2' });
      const h = createHandler({ s3, iotData: iot, config, logger: silentLogger, writeMetrics: (l) => lines.push(l) });
      await failure(h(event(record({ eTag: 'e', size: 5 })), { awsRequestId: 'r' }));
      expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([expect.objectContaining({ service: 'object-to-shadow', ShadowWritesFailed: 2 })]);
    });
  });

  describe('shadow read-compare-write', () => {
    const checksum = () =>
      s3Mock.on(HeadObjectCommand).resolves({ ChecksumType: 'FULL_OBJECT', ChecksumSHA256: createHash('sha256').update('new').digest('base64'), ETag: '"e"', ContentLength: 3 });

    it('retries on 409 with the fresh version and decides again', async () => {
      checksum();
      // The first read is the pre-check (is the event already superseded?), then one per attempt.
      iotMock.on(GetThingShadowCommand).resolvesOnce(shadowDoc(3)).resolvesOnce(shadowDoc(3)).resolves(shadowDoc(4));
      iotMock
        .on(UpdateThingShadowCommand)
        .rejectsOnce(new ConflictException({ message: 'Version conflict', $metadata: { httpStatusCode: 409 } }))
        .resolves({ payload: payload({ version: 5 }) });
      const outcome = await handler()(event(record({ eTag: 'e', size: 3 })));
      expect(updates().map((u) => u.version)).toEqual([3, 4]);
      expect(outcome.records[0]).toMatchObject({ status: 'applied', things: [{ thing: 'lamp', result: 'written', version: 5 }] });
    });

    it('gives up with a retryable SHADOW_CONFLICT after the configured retries', async () => {
      checksum();
      iotMock.on(GetThingShadowCommand).resolves(shadowDoc(3));
      iotMock.on(UpdateThingShadowCommand).rejects(new ConflictException({ message: 'Version conflict', $metadata: { httpStatusCode: 409 } }));
      const err = await failure(handler({ [ENV.conflictRetries]: '2' })(event(record({ eTag: 'e', size: 3 }))));
      expect(iotMock.commandCalls(UpdateThingShadowCommand)).toHaveLength(3);
      expect(err.failures[0]!.code).toBe('SHADOW_CONFLICT');
      expect(err.retryable).toBe(true);
    });

    it('does not read the object when the shadow already names what the key holds (duplicate delivery): one HeadObject, the companion and the counter', async () => {
      const r = record({ eTag: 'e', size: 3, sequencer: '0A' });
      s3Mock.on(HeadObjectCommand).resolves({ ETag: '"e"', ContentLength: 3 });
      iotMock.on(GetThingShadowCommand).resolves(shadowDoc(7, { s3: { url: 's3://b/a.txt', hash: 'h', eTag: 'e', size: 3, sequencer: '0A', eventTime: r.eventTime } }));
      const outcome = await handler()(event(r));
      expect(outcome.records[0]).toMatchObject({ status: 'skipped', reason: 'superseded' });
      // One HeadObject, and the GetObjects of its (absent) companion release object and release counter.
      expect(s3Mock.calls()).toHaveLength(3);
      expect(objectGets()).toHaveLength(0);
      expect(iotMock.commandCalls(UpdateThingShadowCommand)).toHaveLength(0);
    });

    it('writes the other things when one thing fails, throws, and the retry completes only the missing one', async () => {
      checksum();
      const stored: Record<string, unknown> = {};
      iotMock.on(GetThingShadowCommand).callsFake((input: { thingName: string }) => {
        if (!(input.thingName in stored)) throw new ResourceNotFoundException({ message: 'No shadow', $metadata: { httpStatusCode: 404 } });
        return { payload: payload({ state: { desired: stored[input.thingName] }, version: 1 }) };
      });
      let failLamp2 = true;
      iotMock.on(UpdateThingShadowCommand).callsFake((input: { thingName: string; payload: Uint8Array }) => {
        if (input.thingName === 'lamp-2' && failLamp2) throw new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } });
        stored[input.thingName] = (JSON.parse(Buffer.from(input.payload).toString('utf8')) as { state: { desired: unknown } }).state.desired;
        return { payload: payload({ version: 1 }) };
      });
      const h = handler({ [ENV.targetThings]: 'lamp-1,lamp-2' });
      const ev = event(record({ eTag: 'e', size: 3 }));
      const err = await failure(h(ev));
      expect((err.outcome as { records: unknown[] }).records[0]).toMatchObject({
        status: 'failed',
        things: [{ thing: 'lamp-1', result: 'written' }, { thing: 'lamp-2', result: 'failed', error: { code: 'SHADOW_THROTTLED', retryable: true } }],
      });
      failLamp2 = false;
      const retried = await h(ev);
      expect(retried.records[0]).toMatchObject({ status: 'applied', things: [{ thing: 'lamp-1', result: 'unchanged' }, { thing: 'lamp-2', result: 'written' }] });
      expect(iotMock.commandCalls(UpdateThingShadowCommand).filter((c) => c.args[0].input.thingName === 'lamp-1')).toHaveLength(1);
    });

    it('reports a non-retryable SHADOW_SERVICE for a rejected document (413)', async () => {
      checksum();
      iotMock.on(UpdateThingShadowCommand).rejects(Object.assign(new Error('too large'), { name: 'RequestEntityTooLargeException', $metadata: { httpStatusCode: 413 } }));
      const err = await failure(handler()(event(record({ eTag: 'e', size: 3 }))));
      expect(err.failures[0]).toMatchObject({ code: 'SHADOW_SERVICE', retryable: false });
      expect(err.failures[0]!.message).toMatch(/^shadow lamp: UpdateThingShadow failed: RequestEntityTooLargeException \(HTTP 413\)/);
    });
  });

  describe('events', () => {
    it('ignores event types other than ObjectCreated/ObjectRemoved without touching AWS', async () => {
      const outcome = await handler()(event(record({ eventName: 'ObjectRestore:Completed' })));
      expect(outcome.records).toEqual([{ status: 'ignored', eventName: 'ObjectRestore:Completed', reason: 'unsupported-event' }]);
      expect(s3Mock.calls()).toHaveLength(0);
      expect(iotMock.calls()).toHaveLength(0);
    });

    it('handles every record even when one fails, then throws with the whole outcome', async () => {
      s3Mock.on(HeadObjectCommand, { Key: 'denied.txt' }).rejects(sdkError('AccessDenied', 403));
      s3Mock.on(HeadObjectCommand, { Key: 'ok.txt' }).resolves({ ChecksumType: 'FULL_OBJECT', ChecksumSHA256: createHash('sha256').update('ok').digest('base64'), ETag: '"e"', ContentLength: 2 });
      const err = await failure(handler()(event(record({ key: 'denied.txt' }), record({ key: 'ok.txt', eTag: 'e', size: 2 }))));
      const records = (err.outcome as { records: { status: string }[] }).records;
      expect(records.map((r) => r.status)).toEqual(['failed', 'applied']);
      expect(updates()).toHaveLength(1);
    });
  });
});
