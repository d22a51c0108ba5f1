/**
 * The deployed worker's progress ledger, in a bucket of its own: one object per batch outcome
 * (`<uploadId>/batch-<n>.json`), and a `<uploadId>/done` marker written with `If-None-Match: *` once
 * they number `batches`, so exactly one worker (whose marker write succeeds) sends the summary.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { classifyS3Error } from '../s3/s3-errors';
import { summarize, type BatchOutcome, type ProgressLedger, type UploadProgress, type UploadSummary } from './progress';

export class S3Ledger implements ProgressLedger {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async record(upload: UploadProgress, outcome: BatchOutcome): Promise<UploadSummary | undefined> {
    const prefix = `${upload.uploadId}/batch-`;
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: `${prefix}${outcome.batch}.json`, Body: JSON.stringify(outcome), ContentType: 'application/json' }));
    const keys = await this.list(prefix);
    if (keys.length < upload.batches) return undefined;
    try {
      await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: `${upload.uploadId}/done`, Body: 'done', IfNoneMatch: '*' }));
    } catch (err) {
      // Another worker completed it first (412), or is completing it now (409).
      if (classifyS3Error(err).code === 'S3_OBJECT_CHANGED') return undefined;
      throw err;
    }
    const outcomes = await Promise.all(keys.map(async (Key) => {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      return JSON.parse(await res.Body!.transformToString()) as BatchOutcome;
    }));
    return summarize(upload, outcomes);
  }

  private async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }
}
