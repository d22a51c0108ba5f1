/**
 * Lambda behind the fan-out queue: each message is one batch of things of one upload, written under
 * the shared rate. A batch that should come back is reported in `batchItemFailures` (SQS redelivers
 * it alone, then moves it to the dead-letter queue); the batch that completes its upload in the
 * progress ledger publishes the summary and the upload's metric line.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { S3Client } from '@aws-sdk/client-s3';
import { snsPublisher } from '../core/button/sns-publish';
import { S3Ledger } from '../core/fleet/s3-ledger';
import { parseFanOutConfig, WORKER_INSTANCES } from '../core/fleet/settings';
import { TokenBucket } from '../core/fleet/token-bucket';
import { createLogger, type Logger } from '../core/logger';
import { emfLine, SERVICES } from '../core/metrics/emf';
import { errorMessage } from '../core/errors';
import { parseBatch, type FanOutBatch } from '../core/fleet/message';
import { summaryMessage, type ProgressLedger, type UploadSummary } from '../core/fleet/progress';
import { writeBatch, type BatchResult } from '../core/fleet/write-batch';
import { ShadowWriter } from '../core/s3/shadow-writer';

export const FANOUT_METRICS = { targets: 'FanOutTargets', written: 'FanOutWritten', failed: 'FanOutFailed', throttles: 'FanOutThrottles' } as const;

export interface FanOutWorkerDeps {
  writer: Pick<ShadowWriter, 'apply'>;
  /** One per container: every batch this instance writes shares the rate. */
  bucket: TokenBucket;
  ledger: ProgressLedger;
  notify: (summary: UploadSummary, text: { subject: string; message: string }) => Promise<void>;
  /** The queue's maxReceiveCount: the delivery that is a batch's last before the dead-letter queue. */
  maxReceiveCount: number;
  sleep: (ms: number) => Promise<void>;
  logger?: Logger;
  /** Epoch milliseconds. */
  clock?: () => number;
  writeMetrics?: (line: string) => void;
}

export type FanOutWorkerHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

export function createFanOutWorker(deps: FanOutWorkerDeps): FanOutWorkerHandler {
  const logger = deps.logger ?? createLogger({ json: true, fields: { service: SERVICES.fanOut } });
  const now = deps.clock ?? Date.now;
  const finish = async (batch: FanOutBatch, result: BatchResult, deadLettered: boolean): Promise<void> => {
    const upload = { uploadId: batch.uploadId, bucket: batch.change.bucket, key: batch.change.key, batches: batch.batches, targets: batch.targets };
    const summary = await deps.ledger.record(upload, { batch: batch.batch, ...result.counts, deadLettered });
    if (!summary) return;
    const text = summaryMessage(summary);
    logger.info('fan-out finished', { ...summary });
    const counts = { [FANOUT_METRICS.targets]: summary.targets, [FANOUT_METRICS.written]: summary.written + summary.unchanged, [FANOUT_METRICS.failed]: summary.failed };
    deps.writeMetrics?.(JSON.stringify({ ...JSON.parse(emfLine(SERVICES.fanOut, counts, now())), uploadId: summary.uploadId, key: summary.key }));
    await deps.notify(summary, text);
  };

  return async (event) => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      const log = logger.child({ messageId: record.messageId });
      let batch: FanOutBatch;
      try {
        batch = parseBatch(record.body);
      } catch (err) {
        // Never valid: report it so it reaches the dead-letter queue for a person to look at.
        log.error('fan-out message invalid', { err });
        batchItemFailures.push({ itemIdentifier: record.messageId });
        continue;
      }
      const receives = Number(record.attributes?.ApproximateReceiveCount ?? 1);
      const last = receives >= deps.maxReceiveCount;
      try {
        const result = await writeBatch(batch, { writer: deps.writer, bucket: deps.bucket, sleep: deps.sleep, logger: log });
        if (result.throttles > 0) deps.writeMetrics?.(emfLine(SERVICES.fanOut, { [FANOUT_METRICS.throttles]: result.throttles }, now()));
        log.info('fan-out batch', { uploadId: batch.uploadId, batch: batch.batch, of: batch.batches, ...result.counts, throttles: result.throttles, retry: result.retry, receives });
        if (result.retry) batchItemFailures.push({ itemIdentifier: record.messageId });
        if (!result.retry || last) await finish(batch, result, result.retry);
      } catch (err) {
        log.error('fan-out batch failed', { uploadId: batch.uploadId, batch: batch.batch, err: errorMessage(err) });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}

let defaultHandler: FanOutWorkerHandler | undefined;

/** Configuration validated and clients built on the first invocation. */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  if (!defaultHandler) {
    const config = parseFanOutConfig(process.env);
    const logger = createLogger({ json: true, level: config.logLevel, fields: { service: SERVICES.fanOut } });
    // Throttles come back to the worker, which backs off for every write of the instance.
    const iotData = new IoTDataPlaneClient({ maxAttempts: 1, ...(config.iotDataEndpoint ? { endpoint: config.iotDataEndpoint } : {}) });
    const publish = config.snsTopicArn ? snsPublisher() : undefined;
    defaultHandler = createFanOutWorker({
      writer: new ShadowWriter(iotData, { property: config.shadowProperty, shadowName: config.shadowName, conflictRetries: 5, logger }),
      // The event source runs at most WORKER_INSTANCES instances: each takes its share of the rate.
      bucket: new TokenBucket({ ratePerSecond: config.writesPerSecond / WORKER_INSTANCES, clock: () => performance.now(), sleep }),
      ledger: new S3Ledger(new S3Client({}), config.progressBucket),
      maxReceiveCount: config.maxReceiveCount,
      sleep,
      logger,
      notify: async (_summary, text) => void (await publish?.({ topicArn: config.snsTopicArn!, ...text })),
      writeMetrics: (line) => void process.stdout.write(line + '\n'),
    });
  }
  return defaultHandler(event);
};
