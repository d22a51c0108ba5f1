/**
 * Two S3 peers driven the same way, so one set of behavioural assertions runs against both: moto's
 * S3 server (written by others, versioned like AWS; pinned in requirements/s3-peer.txt, installed
 * into .venv by scripts/python-venv.sh) and the sandbox's own local S3. Both listen on 127.0.0.1,
 * on a port the system picks.
 *
 * `run` performs puts and deletes on a peer and returns the S3-shaped event record of each, built
 * from the peer's answers (version id, ETag, delete marker) with increasing sequencers and times:
 * moto sends no notifications here, so both peers get their events the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CreateBucketCommand, DeleteObjectCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3EventRecord } from 'aws-lambda';
import { encodeEventKey, startLocalS3 } from '../../sandbox/local-s3';
import { S3_COMPATIBLE_ENDPOINT_SETTINGS } from '../../core/s3/compatible-endpoint';
import { s3EventRecord } from './s3-event-record';

export interface S3Peer {
  name: string;
  client: S3Client;
  /** A fresh bucket, versioned or not. */
  newBucket(versioned: boolean): Promise<string>;
  close(): Promise<void>;
}

export type Op = { put: string; body: string } | { delete: string };

let buckets = 0;

async function makeBucket(client: S3Client, versioned: boolean): Promise<string> {
  const bucket = `peer-${process.pid}-${++buckets}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  if (versioned) await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  return bucket;
}

const MOTO = join(process.cwd(), '.venv', 'bin', 'moto_server');

export interface MotoServer {
  /** `http://127.0.0.1:<port>`: every AWS service moto serves, on one port. */
  endpoint: string;
  close(): Promise<void>;
}

/** moto_server in a child process on 127.0.0.1 (port chosen by the system); resolves once it says where it listens. */
export async function startMotoServer(): Promise<MotoServer> {
  if (!existsSync(MOTO)) throw new Error(`${MOTO} is missing: run scripts/python-venv.sh (npm test's pretest does)`);
  const child: ChildProcess = spawn(MOTO, ['-H', '127.0.0.1', '-p', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('moto_server did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`moto_server exited (${code})`)));
    createInterface({ input: child.stderr! }).on('line', (line) => {
      const m = /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** moto's S3 server in a child process. */
export async function startMotoPeer(): Promise<S3Peer> {
  const moto = await startMotoServer();
  const client = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, ...S3_COMPATIBLE_ENDPOINT_SETTINGS });
  return {
    name: 'moto',
    client,
    newBucket: (versioned) => makeBucket(client, versioned),
    close: async () => {
      client.destroy();
      await moto.close();
    },
  };
}

/** The sandbox's local S3, in this process, on its own directory. */
export async function startLocalPeer(): Promise<S3Peer & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'local-s3-peer-'));
  const s3 = await startLocalS3({ dir: join(dir, 'store'), buckets: [] });
  const client = s3.createClient();
  return {
    name: 'local S3',
    dir,
    client,
    newBucket: (versioned) => makeBucket(client, versioned),
    close: async () => {
      client.destroy();
      await s3.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Perform `ops` in order; the event record S3 would send for each. */
export async function run(peer: S3Peer, bucket: string, ops: readonly Op[]): Promise<S3EventRecord[]> {
  const records: S3EventRecord[] = [];
  const t0 = Date.parse('2026-11-21T10:00:00.000Z');
  for (const [i, op] of ops.entries()) {
    const sequencer = (0x1000 + i).toString(16).toUpperCase().padStart(18, '0');
    const eventTime = new Date(t0 + i).toISOString();
    if ('put' in op) {
      const out = await peer.client.send(new PutObjectCommand({ Bucket: bucket, Key: op.put, Body: op.body }));
      const eTag = (out.ETag ?? '').replace(/"/g, '');
      records.push(s3EventRecord({ bucket, key: encodeEventKey(op.put), size: Buffer.byteLength(op.body), eTag, sequencer, eventTime, ...(out.VersionId ? { versionId: out.VersionId } : {}) }));
    } else {
      const out = await peer.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: op.delete }));
      const eventName = out.DeleteMarker ? 'ObjectRemoved:DeleteMarkerCreated' : 'ObjectRemoved:Delete';
      records.push(s3EventRecord({ eventName, bucket, key: encodeEventKey(op.delete), sequencer, eventTime, ...(out.VersionId ? { versionId: out.VersionId } : {}) }));
    }
  }
  return records;
}
