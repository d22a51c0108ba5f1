/**
 * A real local S3 (the sandbox's, versioned unless asked otherwise) whose events are captured, a shadow endpoint on 127.0.0.1, and a
 * helper to build the object-to-shadow handler against them. Events are not delivered by
 * themselves: each test decides when, how often and in which order.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand, type PutObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';
import type { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { startLocalS3, type LocalS3 } from '../../sandbox/local-s3';
import type { Versioning } from '../../sandbox/s3/versions';
import { startIotCore } from '../../sandbox/iot-core';
import { startShadowHttpStub, type ShadowHttpStub } from './shadow-http-stub';
import { objectFunctionEnvironment, parseObjectConfig, type ObjectSettings } from '../../core/s3/config';
import { silentLogger } from '../../core/logger';
import { createHandler, type ObjectToShadowHandler } from '../../lambda/object-to-shadow';

export const BUCKET = 'b';

/** Where the handler's shadows live: the sandbox's data-plane API, or the HTTP stub. */
export interface ShadowBackend {
  client(): IoTDataPlaneClient;
  /** `state.desired` of the shadow, or undefined when it or the section does not exist. */
  desired(thing: string, shadowName?: string): Record<string, unknown> | undefined;
  version(thing: string, shadowName?: string): number | undefined;
  close(): Promise<void>;
}

/** The sandbox's IoT Core stand-in (issue 5): its data-plane HTTPS API, trusted via its CA. */
export async function startSandboxShadows(): Promise<ShadowBackend> {
  const dir = mkdtempSync(join(tmpdir(), 'object-to-shadow-iot-'));
  const iot = await startIotCore({ dir });
  const clients: IoTDataPlaneClient[] = [];
  const doc = (thing: string, shadowName?: string) => iot.shadows.get(thing, shadowName) as { state?: { desired?: Record<string, unknown> }; version?: number } | undefined;
  return {
    client: () => {
      const c = iot.createDataPlaneClient();
      clients.push(c);
      return c;
    },
    desired: (thing, shadowName) => doc(thing, shadowName)?.state?.desired,
    version: (thing, shadowName) => doc(thing, shadowName)?.version,
    close: async () => {
      for (const c of clients) c.destroy();
      await iot.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The HTTP stub, for tests that need to inject a concurrent writer or a failure. */
export async function startStubShadows(): Promise<ShadowBackend & { stub: ShadowHttpStub }> {
  const stub = await startShadowHttpStub();
  return {
    stub,
    client: () => stub.client(),
    desired: (thing, shadowName) => stub.get(thing, shadowName)?.state.desired,
    version: (thing, shadowName) => stub.get(thing, shadowName)?.version,
    close: () => stub.close(),
  };
}

export interface S3Rig {
  s3: LocalS3;
  client: S3Client;
  dir: string;
  /** Upload and return the event S3 announced for it. */
  put(key: string, body: PutObjectCommandInput['Body'], contentLength?: number): Promise<S3Event>;
  remove(key: string): Promise<S3Event>;
  /** The next event S3 announced (for writes the test made itself, e.g. a publish). */
  nextEvent(): Promise<S3Event>;
  handler(settings: Partial<ObjectSettings> & { targetThings: string[] }, iotData: IoTDataPlaneClient): ObjectToShadowHandler;
  close(): Promise<void>;
}

export const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

export function mergeEvents(...events: S3Event[]): S3Event {
  return { Records: events.flatMap((e): S3EventRecord[] => e.Records) };
}

export async function startS3Rig(options: { versioning?: Versioning } = {}): Promise<S3Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'object-to-shadow-'));
  const pending: S3Event[] = [];
  const waiters: ((e: S3Event) => void)[] = [];
  // Each event one second after the one before: distinct event times without waiting for the clock.
  let eventClock = Date.UTC(2026, 0, 1);
  const s3 = await startLocalS3({
    dir,
    buckets: [BUCKET],
    clock: () => (eventClock += 1_000),
    ...(options.versioning ? { versioning: options.versioning } : {}),
    onEvent: (e) => {
      const w = waiters.shift();
      if (w) w(e);
      else pending.push(e);
    },
  });
  const client = s3.createClient();
  const nextEvent = () =>
    new Promise<S3Event>((resolve, reject) => {
      const e = pending.shift();
      if (e) return resolve(e);
      const timer = setTimeout(() => reject(new Error('no S3 event within 10 s')), 10_000);
      waiters.push((ev) => {
        clearTimeout(timer);
        resolve(ev);
      });
    });
  return {
    s3,
    client,
    dir,
    put: async (key, body, contentLength) => {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentLength: contentLength }));
      return nextEvent();
    },
    remove: async (key) => {
      await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
      return nextEvent();
    },
    nextEvent,
    handler: (settings, iotData) =>
      createHandler({ s3: client, iotData, config: parseObjectConfig(objectFunctionEnvironment(settings)), logger: silentLogger }),
    close: async () => {
      client.destroy();
      await s3.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every ordering of `items`. */
export function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}
