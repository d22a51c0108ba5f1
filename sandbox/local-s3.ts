/**
 * The sandbox's S3: a small S3-compatible server of our own (sandbox/s3/), versioned like the
 * deployed bucket, with S3-shaped event notifications. Our own because no versioned S3 server
 * installs from npm (moto needs Python); test/integration/s3/versioned-peer.test.ts runs the same
 * tests against it and moto. Events carry form-encoded keys, `versionId` and a rising sequencer.
 */
import { createServer, type Server } from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { silentLogger, type Logger } from '../core/logger';
import { formatHostPort } from '../core/util/host-port';
import { closeServer, guardRequests, hardenServer, listen, serverOptions } from './http-server';
import { S3_COMPATIBLE_ENDPOINT_SETTINGS } from '../core/s3/compatible-endpoint';
import { handleS3Request, type StoreChange } from './s3/http-api';
import { ObjectStore } from './s3/object-store';
import type { Versioning } from './s3/versions';

export const LOCAL_S3_ACCESS_KEY_ID = 'S3RVER';
export const LOCAL_S3_SECRET_ACCESS_KEY = 'S3RVER';
export const LOCAL_S3_REGION = 'us-east-1';

export interface LocalS3Options {
  dir: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Buckets created at start (default `['shadowplug']`). */
  buckets?: string[];
  /** Versioning of the buckets created at start (default `Enabled`, as the stack deploys). */
  versioning?: Versioning;
  /** Called with each S3-shaped event (Put, Delete, DeleteMarkerCreated). Errors it throws are logged. */
  onEvent?: (event: S3Event) => void | Promise<void>;
  /** Epoch ms for event times and sequencers (default Date.now). */
  clock?: () => number;
  logger?: Logger;
}

/** A running local S3 (an S3 client set up for it: `createClient()`). */
export type LocalS3 = Awaited<ReturnType<typeof startLocalS3>>;

/** Encode a key as S3 does in event notifications: form encoding, `/` kept. */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

/** Options every S3 client pointed at an S3-compatible local endpoint needs. */
export function localS3ClientConfig(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
  return {
    endpoint,
    region: LOCAL_S3_REGION,
    credentials,
    ...S3_COMPATIBLE_ENDPOINT_SETTINGS,
  };
}

/** A strictly increasing sequencer (S3 only promises order per key; one clock for all keys does that). */
function sequencer(): (at: number) => string {
  let last = 0n;
  return (at) => {
    const now = BigInt(at) << 16n;
    last = now > last ? now : last + 1n;
    return last.toString(16).toUpperCase().padStart(16, '0');
  };
}

function eventRecord(change: StoreChange, seq: string, host: string, at: number): S3EventRecord {
  // Removal events carry no size and no eTag, as S3's do.
  const object = {
    key: encodeEventKey(change.key),
    ...(change.size !== undefined ? { size: change.size } : {}),
    ...(change.eTag !== undefined ? { eTag: change.eTag } : {}),
    ...(change.versionId !== undefined ? { versionId: change.versionId } : {}),
    sequencer: seq,
  } as S3EventRecord['s3']['object'];
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: LOCAL_S3_REGION,
    eventTime: new Date(at).toISOString(),
    eventName: change.eventName,
    userIdentity: { principalId: 'local' },
    requestParameters: { sourceIPAddress: host },
    responseElements: { 'x-amz-request-id': 'local', 'x-amz-id-2': 'local' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'shadowplug-local',
      bucket: { name: change.bucket, ownerIdentity: { principalId: 'local' }, arn: `arn:aws:s3:::${change.bucket}` },
      object,
    },
  } as S3EventRecord;
}

export async function startLocalS3(options: LocalS3Options) {
  const host = options.host ?? '127.0.0.1';
  const buckets = options.buckets ?? ['shadowplug'];
  const logger = options.logger ?? silentLogger;
  const store = new ObjectStore(options.dir);
  for (const bucket of buckets) {
    store.createBucket(bucket, options.versioning ?? 'Enabled');
    if ((options.versioning ?? 'Enabled') === 'Enabled') store.setVersioning(bucket, 'Enabled');
  }
  const nextSequencer = sequencer();
  const clock = options.clock ?? Date.now;
  const onChange = (change: StoreChange) => {
    const at = clock();
    const event: S3Event = { Records: [eventRecord(change, nextSequencer(at), host, at)] };
    if (!options.onEvent) return;
    Promise.resolve()
      .then(() => options.onEvent!(event))
      .catch((err: unknown) => logger.error('S3 event handler failed', { err, eventName: change.eventName }));
  };
  const ctx = { store, accessKeyId: LOCAL_S3_ACCESS_KEY_ID, onChange };
  const server: Server = hardenServer(createServer(serverOptions(), guardRequests((req, res) => handleS3Request(ctx, req, res))));
  const port = await listen(server, host, options.port ?? 0);
  const endpoint = `http://${formatHostPort(host, port)}`;
  const credentials = { accessKeyId: LOCAL_S3_ACCESS_KEY_ID, secretAccessKey: LOCAL_S3_SECRET_ACCESS_KEY };
  return {
    endpoint,
    host,
    port,
    buckets,
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    region: LOCAL_S3_REGION,
    createClient: (): S3Client => new S3Client(localS3ClientConfig(endpoint, credentials)),
    close: (): Promise<void> => closeServer(server),
  };
}
