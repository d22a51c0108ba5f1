/**
 * A local S3 server (s3rver) with the sandbox's bucket(s), and S3-shaped event records.
 *
 * s3rver's own events differ from real S3 in two ways that matter to the object Lambda, so they
 * are normalised here: keys arrive raw (S3 URL-encodes them, `+` for space) and the sequencer is
 * the millisecond clock (two uploads in one millisecond would tie). We encode keys the way S3
 * does and issue a strictly increasing sequencer per key space.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import S3rver from 's3rver';
import { S3Client } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { silentLogger, type Logger } from '../core/logger';
import { S3_COMPATIBLE_ENDPOINT_SETTINGS } from '../core/s3/compatible-endpoint';

/** s3rver accepts only these credentials. */
export const LOCAL_S3_ACCESS_KEY_ID = 'S3RVER';
export const LOCAL_S3_SECRET_ACCESS_KEY = 'S3RVER';
export const LOCAL_S3_REGION = 'us-east-1';

export interface LocalS3Options {
  /** Where objects are stored. */
  dir: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Buckets created at start (default `['shadowplug']`). */
  buckets?: string[];
  /** Called with each S3-shaped event (Put, Post, Copy, Delete). Errors it throws are logged. */
  onEvent?: (event: S3Event) => void | Promise<void>;
  logger?: Logger;
}

export interface LocalS3 {
  endpoint: string;
  host: string;
  port: number;
  buckets: string[];
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** An S3 client set up for this server (path style, no chunked checksums). */
  createClient(): S3Client;
  close(): Promise<void>;
}

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

export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const host = options.host ?? '127.0.0.1';
  const buckets = options.buckets ?? ['shadowplug'];
  const logger = options.logger ?? silentLogger;
  mkdirSync(options.dir, { recursive: true });
  const server = new S3rver({
    address: host,
    port: options.port ?? 0,
    silent: true,
    directory: options.dir,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });

  let lastSequencer = 0n;
  server.on('event', (raw: S3Event) => {
    const event: S3Event = structuredClone(raw);
    for (const record of event.Records) {
      const now = BigInt(Date.now()) << 16n;
      lastSequencer = now > lastSequencer ? now : lastSequencer + 1n;
      record.s3.object.sequencer = lastSequencer.toString(16).toUpperCase().padStart(16, '0');
      record.s3.object.key = encodeEventKey(record.s3.object.key);
    }
    if (!options.onEvent) return;
    Promise.resolve()
      .then(() => options.onEvent!(event))
      .catch((err: unknown) => logger.error('S3 event handler failed', { err, eventName: event.Records[0]?.eventName }));
  });

  const address = (await server.run()) as AddressInfo;
  const httpServer = (server as unknown as { httpServer: Server }).httpServer;
  const endpoint = `http://${host}:${address.port}`;
  const credentials = { accessKeyId: LOCAL_S3_ACCESS_KEY_ID, secretAccessKey: LOCAL_S3_SECRET_ACCESS_KEY };

  return {
    endpoint,
    host,
    port: address.port,
    buckets,
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    region: LOCAL_S3_REGION,
    createClient: () => new S3Client(localS3ClientConfig(endpoint, credentials)),
    close: async () => {
      const closed = server.close();
      httpServer.closeAllConnections();
      await closed;
    },
  };
}
