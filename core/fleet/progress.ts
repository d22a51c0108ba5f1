/**
 * How a fan-out knows it is over: each batch's final outcome (settled, or failed on its last
 * delivery) is recorded under the upload's id and its batch index, a repeat overwriting its own
 * entry; the record that makes the count reach `batches` completes the upload, once. Pure.
 */
import type { BatchCounts } from './write-batch';

export interface UploadProgress {
  uploadId: string;
  bucket: string;
  key: string;
  batches: number;
  targets: number;
}

export interface UploadSummary extends UploadProgress, BatchCounts {
  /** Batches that ended in the dead-letter queue. */
  failedBatches: number;
}

export interface BatchOutcome extends BatchCounts {
  batch: number;
  /** Ended in the dead-letter queue (its unsettled things are in `failed`). */
  deadLettered: boolean;
}

export interface ProgressLedger {
  /** Records one batch's final outcome; resolves with the summary when this record completed the upload (exactly once). */
  record(upload: UploadProgress, outcome: BatchOutcome): Promise<UploadSummary | undefined>;
}

export function summarize(upload: UploadProgress, outcomes: Iterable<BatchOutcome>): UploadSummary {
  const s: UploadSummary = { ...upload, written: 0, unchanged: 0, skipped: 0, failed: 0, failedBatches: 0 };
  for (const o of outcomes) {
    for (const k of ['written', 'unchanged', 'skipped', 'failed'] as const) s[k] += o[k];
    if (o.deadLettered) s.failedBatches++;
  }
  return s;
}

/** The summary's SNS subject and message (one per upload). */
export function summaryMessage(s: UploadSummary): { subject: string; message: string } {
  const ok = s.failed === 0 && s.failedBatches === 0;
  const subject = `shadowplug: upload ${ok ? 'delivered to' : 'FAILED for some of'} ${s.targets} devices`.slice(0, 99);
  const lines = [
    `s3://${s.bucket}/${s.key} (upload ${s.uploadId}): ${s.targets} target devices in ${s.batches} batches.`,
    `written ${s.written}, already current ${s.unchanged}, not applicable ${s.skipped}, failed ${s.failed}.`,
    ...(s.failedBatches > 0 ? [`${s.failedBatches} batches are in the fan-out dead-letter queue: redrive them (docs/deploy.md, "Replaying failed events").`] : []),
  ];
  return { subject, message: lines.join('\n') };
}

/** One process's ledger (the sandbox, tests); the deployed worker keeps the same entries in S3. */
export class MemoryLedger implements ProgressLedger {
  private readonly uploads = new Map<string, { outcomes: Map<number, BatchOutcome>; done: boolean }>();

  async record(upload: UploadProgress, outcome: BatchOutcome): Promise<UploadSummary | undefined> {
    let u = this.uploads.get(upload.uploadId);
    if (!u) this.uploads.set(upload.uploadId, (u = { outcomes: new Map(), done: false }));
    u.outcomes.set(outcome.batch, outcome);
    if (u.done || u.outcomes.size < upload.batches) return undefined;
    u.done = true;
    return summarize(upload, u.outcomes.values());
  }
}
