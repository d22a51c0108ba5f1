/**
 * Two uploads of one key whose invocations race (issue 24): the older upload's invocation reads
 * the key's state, is held there (an SDK middleware on its own S3 client, no sleeps) while the
 * newer upload lands and its invocation runs, then goes on. Whatever order the invocations finish
 * in, the desired value ends naming exactly what a plain GetObject of the key returns (version
 * and SHA-256), or cleared when the key is gone. Against the sandbox's local S3 and moto's
 * versioned S3, both writing into the sandbox's IoT Core stand-in over its data-plane API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { S3_COMPATIBLE_ENDPOINT_SETTINGS } from '../../../core/s3/compatible-endpoint';
import { objectFunctionEnvironment, parseObjectConfig } from '../../../core/s3/config';
import { silentLogger } from '../../../core/logger';
import { createHandler, type ObjectToShadowHandler } from '../../../lambda/object-to-shadow';
import { encodeEventKey } from '../../../sandbox/local-s3';
import { holdAfter } from '../../helpers/sdk-gate';
import { s3EventRecord } from '../../helpers/s3-event-record';
import { BUCKET, sha256, startS3Rig, startSandboxShadows, type ShadowBackend } from '../../helpers/s3-handler-rig';
import { startMotoServer } from '../../helpers/s3-peers';

/** A versioned bucket, its events, and fresh clients (the gate goes on one invocation's client only). */
interface RaceBucket {
  bucket: string;
  client: S3Client;
  newClient(): S3Client;
  put(key: string, body: Buffer): Promise<S3Event>;
  remove(key: string): Promise<S3Event>;
  close(): Promise<void>;
}

async function localBucket(): Promise<RaceBucket> {
  const rig = await startS3Rig();
  const clients: S3Client[] = [];
  return {
    bucket: BUCKET,
    client: rig.client,
    newClient: () => {
      const c = rig.s3.createClient();
      clients.push(c);
      return c;
    },
    put: (key, body) => rig.put(key, body),
    remove: (key) => rig.remove(key),
    close: async () => {
      for (const c of clients) c.destroy();
      await rig.close();
    },
  };
}

/** moto sends no notifications: each event is built from moto's answer, with growing sequencers and times. */
async function motoBucket(): Promise<RaceBucket> {
  const moto = await startMotoServer();
  const clients: S3Client[] = [];
  const newClient = () => {
    const c = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, ...S3_COMPATIBLE_ENDPOINT_SETTINGS });
    clients.push(c);
    return c;
  };
  const client = newClient();
  const bucket = 'race';
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  let n = 0;
  const order = () => ({ sequencer: (0x1000 + ++n).toString(16).toUpperCase().padStart(18, '0'), eventTime: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString() });
  return {
    bucket,
    client,
    newClient,
    put: async (key, body) => {
      const out = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      return { Records: [s3EventRecord({ bucket, key: encodeEventKey(key), size: body.length, eTag: (out.ETag ?? '').replace(/"/g, ''), versionId: out.VersionId, ...order() })] };
    },
    remove: async (key) => {
      const out = await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      return { Records: [s3EventRecord({ eventName: 'ObjectRemoved:DeleteMarkerCreated', bucket, key: encodeEventKey(key), versionId: out.VersionId, ...order() })] };
    },
    close: async () => {
      for (const c of clients) c.destroy();
      await moto.close();
    },
  };
}

// The user's shape: a large A, then a 300-byte B on the same key.
const A = Buffer.alloc(3 << 20, 'a');
const B = Buffer.alloc(300, 'b');

describe.each([
  ['the local S3', localBucket],
  ['moto', motoBucket],
])('racing uploads of one key, against %s (versioned)', (_name, start: () => Promise<RaceBucket>) => {
  let s3: RaceBucket;
  let shadows: ShadowBackend;
  let n = 0;
  const fresh = (name: string) => `${name}-${++n}`;

  beforeAll(async () => {
    [s3, shadows] = await Promise.all([start(), startSandboxShadows()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([s3?.close(), shadows?.close()]);
  });

  /** One invocation of the object Lambda, with its own S3 client. */
  const invocation = (thing: string, client: S3Client): ObjectToShadowHandler =>
    createHandler({ s3: client, iotData: shadows.client(), config: parseObjectConfig(objectFunctionEnvironment({ targetThings: [thing] })), logger: silentLogger });

  /** The value names what a plain GetObject of the key returns now, or is cleared when there is none. */
  async function expectNamesCurrentObject(thing: string, key: string) {
    const value = shadows.desired(thing)?.s3 as Record<string, unknown> | null | undefined;
    let now: { versionId?: string; hash: string } | undefined;
    try {
      const got = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
      now = { versionId: got.VersionId, hash: sha256(await got.Body!.transformToByteArray()) };
    } catch (err) {
      if ((err as { name?: string }).name !== 'NoSuchKey') throw err;
    }
    if (now === undefined) expect(value ?? null).toBeNull();
    else expect(value).toMatchObject({ key, hash: now.hash, versionId: now.versionId });
  }

  it('A held after reading the key until B\'s invocation has written: ends naming B (B finishes first)', async () => {
    const thing = fresh('lamp');
    const key = `${thing}/r.bin`;
    const clientA = s3.newClient();
    const gate = holdAfter(clientA, 'HeadObjectCommand');
    const runA = invocation(thing, clientA)(await s3.put(key, A));
    await gate.reached;
    const eventB = await s3.put(key, B);
    await invocation(thing, s3.newClient())(eventB);
    expect(shadows.desired(thing)?.s3).toMatchObject({ hash: sha256(B) });
    gate.release();
    await runA;
    await expectNamesCurrentObject(thing, key);
    expect(shadows.desired(thing)?.s3).toMatchObject({ hash: sha256(B), size: B.length });
  });

  it('both held after reading the key, A released first: ends naming B (A finishes first)', async () => {
    const thing = fresh('lamp');
    const key = `${thing}/r.bin`;
    const [clientA, clientB] = [s3.newClient(), s3.newClient()];
    const [gateA, gateB] = [holdAfter(clientA, 'HeadObjectCommand'), holdAfter(clientB, 'HeadObjectCommand')];
    const runA = invocation(thing, clientA)(await s3.put(key, A));
    await gateA.reached;
    const runB = invocation(thing, clientB)(await s3.put(key, B));
    await gateB.reached;
    gateA.release();
    await runA;
    gateB.release();
    await runB;
    await expectNamesCurrentObject(thing, key);
    expect(shadows.desired(thing)?.s3).toMatchObject({ hash: sha256(B) });
  });

  it('A held after reading the key while the key is deleted and the delete handled: ends cleared', async () => {
    const thing = fresh('lamp');
    const key = `${thing}/r.bin`;
    const clientA = s3.newClient();
    const gate = holdAfter(clientA, 'HeadObjectCommand');
    const runA = invocation(thing, clientA)(await s3.put(key, A));
    await gate.reached;
    await invocation(thing, s3.newClient())(await s3.remove(key));
    gate.release();
    await runA;
    await expectNamesCurrentObject(thing, key);
    expect(shadows.desired(thing)?.s3 ?? null).toBeNull();
  });
});
