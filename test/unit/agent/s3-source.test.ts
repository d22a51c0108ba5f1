import { Readable } from 'node:stream';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { AGENT_SETTINGS } from '../../../core/settings/agent';
import { AGENT_FLAGS } from '../../../agent/options';
import { s3ClientConfig, s3ObjectSource, type ObjectSource } from '../../../agent/s3-source';
import { downloadObject } from '../../../agent/download';
import { mapS3Error } from '../../../core/s3/s3-errors';
import { DownloadError, ObjectTooLargeError } from '../../../agent/errors';

const s3Mock = mockClient(S3Client);

function serviceError(name: string, status: number): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });
}

describe('s3ObjectSource (GetObject at the SDK boundary)', () => {
  beforeEach(() => s3Mock.reset());

  it('asks for the version, the remaining range and the ETag it resumes from', async () => {
    s3Mock.on(GetObjectCommand).resolves({
      $metadata: { httpStatusCode: 206 },
      Body: Readable.from([Buffer.from('rest')]) as never,
      ContentLength: 4,
      ContentRange: 'bytes 10-13/14',
      ETag: '"e1"',
    });
    const source = s3ObjectSource(new S3Client(s3ClientConfig({ region: 'eu-west-1' })));
    const r = await source({ bucket: 'b', key: 'k', versionId: 'v7', start: 10, ifMatch: '"e1"' });
    expect(s3Mock.commandCalls(GetObjectCommand)[0]!.args[0].input).toEqual({ Bucket: 'b', Key: 'k', VersionId: 'v7', Range: 'bytes=10-', IfMatch: '"e1"' });
    expect(r).toMatchObject({ status: 206, start: 10, totalSize: 14, etag: '"e1"', contentLength: 4 });
  });

  it.each([
    ['AccessDenied', 403, 'S3_ACCESS_DENIED', true],
    ['ExpiredToken', 400, 'S3_ACCESS_DENIED', true],
    ['InvalidToken', 400, 'S3_ACCESS_DENIED', true],
    ['NoSuchKey', 404, 'S3_OBJECT_MISSING', false],
    ['NoSuchVersion', 404, 'S3_OBJECT_MISSING', false],
    ['MethodNotAllowed', 405, 'S3_OBJECT_MISSING', false],
    ['PreconditionFailed', 412, 'S3_OBJECT_CHANGED', false],
    ['ConditionalRequestConflict', 409, 'S3_OBJECT_CHANGED', false],
    ['InvalidRange', 416, 'S3_INVALID_RANGE', false],
    ['SlowDown', 503, 'S3_THROTTLED', true],
    ['InternalError', 500, 'S3_SERVER_ERROR', true],
    ['BadRequest', 400, 'S3_REQUEST_REFUSED', true],
  ])('maps %s (%d) to %s (retryable: %s), as the object Lambda does, naming the object', async (name, status, code, retryable) => {
    s3Mock.on(GetObjectCommand).rejects(serviceError(name, status));
    const err = await s3ObjectSource(new S3Client({ region: 'eu-west-1' }))({ bucket: 'b', key: 'dir/k', versionId: 'v1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err).toMatchObject({ code, status, retryable });
    expect((err as Error).message).toContain('s3://b/dir/k?versionId=v1');
    expect(mapS3Error(serviceError(name, status), 'b', 'dir/k')).toMatchObject({ code, retryable });
  });

  it('uses path-style addressing and checksums only when required for a non-AWS endpoint', () => {
    expect(s3ClientConfig({ endpoint: 'http://127.0.0.1:9000' })).toMatchObject({ forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    expect(s3ClientConfig({ region: 'eu-west-1' }).forcePathStyle).toBeUndefined();
  });

  it("signs for the settings schema's declared region when none is given, as --help and docs/agent.md say", () => {
    expect(AGENT_SETTINGS.region.default).toBe('us-east-1');
    expect(s3ClientConfig({}).region).toBe(AGENT_SETTINGS.region.default);
    expect(AGENT_FLAGS.find((f) => f.name === 'region')?.help).toMatch(/\(default us-east-1\)$/);
  });
});

describe('downloadObject size limit on a stream of undeclared length', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'agent-limit-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stops as soon as the bytes received pass the limit and keeps nothing', async () => {
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 16384;
        this.push(Buffer.alloc(16384, 1));
      },
    });
    const source: ObjectSource = async () => ({ body: endless, status: 200, start: 0 });
    const err = await downloadObject(source, { bucket: 'b', key: 'k', hash: 'a'.repeat(64), maxSize: 100_000, finalPath: join(dir, 'k') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectTooLargeError);
    expect((err as Error).message).toContain('received');
    expect(produced).toBeLessThan(100_000 + 4 * 1024 * 1024); // stopped early, not at the end of an endless stream
    expect(readdirSync(dir)).toEqual([]);
  });
});
