/**
 * The deployed worker's progress ledger against moto's S3: the upload completes once, when its last
 * batch is recorded, even when several workers record their batches at the same moment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { S3Ledger } from '../../../core/fleet/s3-ledger';
import { S3_COMPATIBLE_ENDPOINT_SETTINGS } from '../../../core/s3/compatible-endpoint';
import { startMotoServer, type MotoServer } from '../../helpers/s3-peers';

let moto: MotoServer;
let s3: S3Client;

beforeAll(async () => {
  moto = await startMotoServer();
  s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, ...S3_COMPATIBLE_ENDPOINT_SETTINGS });
  await s3.send(new CreateBucketCommand({ Bucket: 'progress' }));
});
afterAll(async () => {
  s3?.destroy();
  await moto?.close();
});

const zero = { unchanged: 0, skipped: 0, failed: 0, deadLettered: false };

describe('S3Ledger', () => {
  it('returns the summary once, to the record that completed the upload', async () => {
    const ledger = new S3Ledger(s3, 'progress');
    const upload = { uploadId: 'u1', bucket: 'files', key: 'fw.bin', batches: 3, targets: 250 };
    expect(await ledger.record(upload, { batch: 0, written: 100, ...zero })).toBeUndefined();
    expect(await ledger.record(upload, { batch: 0, written: 100, ...zero })).toBeUndefined();
    expect(await ledger.record(upload, { batch: 2, written: 45, ...zero, failed: 5 })).toBeUndefined();
    const summary = await ledger.record(upload, { batch: 1, written: 100, ...zero });
    expect(summary).toMatchObject({ uploadId: 'u1', written: 245, failed: 5, targets: 250, batches: 3, failedBatches: 0 });
    expect(await ledger.record(upload, { batch: 1, written: 100, ...zero })).toBeUndefined();
  });

  it('several workers finishing together: exactly one summary', async () => {
    const ledgers = Array.from({ length: 8 }, () => new S3Ledger(s3, 'progress'));
    const upload = { uploadId: 'u2', bucket: 'files', key: 'fw.bin', batches: 8, targets: 800 };
    const summaries = await Promise.all(ledgers.map((l, batch) => l.record(upload, { batch, written: 100, ...zero })));
    const sent = summaries.filter((s) => s !== undefined);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ written: 800 });
  });
});
