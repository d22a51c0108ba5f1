import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { startLocalS3, type LocalS3 } from '../../../sandbox/local-s3';

describe('startLocalS3', () => {
  let dir: string;
  let s3: LocalS3;
  let events: S3Event[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'local-s3-'));
    events = [];
    s3 = await startLocalS3({ dir, buckets: ['b'], onEvent: (e) => void events.push(e) });
  });
  afterEach(async () => {
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores the exact bytes uploaded and reads them back', async () => {
    const client = s3.createClient();
    await client.send(new PutObjectCommand({ Bucket: 'b', Key: 'a/b c.txt', Body: 'hello' }));
    const got = await client.send(new GetObjectCommand({ Bucket: 'b', Key: 'a/b c.txt' }));
    expect(await got.Body!.transformToString()).toBe('hello');
    client.destroy();
  });

  it('emits S3-shaped events with encoded keys and strictly increasing sequencers', async () => {
    const client = s3.createClient();
    await client.send(new PutObjectCommand({ Bucket: 'b', Key: 'x y+é.txt', Body: '1' }));
    await client.send(new PutObjectCommand({ Bucket: 'b', Key: 'x y+é.txt', Body: '2' }));
    client.destroy();
    expect(events).toHaveLength(2);
    const [first, second] = events.map((e) => e.Records[0]!.s3.object);
    expect(first!.key).toBe('x+y%2B%C3%A9.txt');
    expect(decodeURIComponent(first!.key.replace(/\+/g, ' '))).toBe('x y+é.txt');
    expect(second!.sequencer > first!.sequencer).toBe(true);
    expect(events[0]!.Records[0]!.eventName).toBe('ObjectCreated:Put');
  });
});
