/**
 * A fan-out's batches onto the queue, ten a call (SQS's maximum); refused entries are sent again a
 * few times before the enqueue fails (the event is then retried: batches sent twice are harmless).
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ShadowplugError } from '../errors';
import type { FanOutBatch } from './message';

const PER_CALL = 10;
const ATTEMPTS = 3;

export type Enqueue = (batches: readonly FanOutBatch[]) => Promise<void>;

export function sqsEnqueue(sqs: SQSClient, queueUrl: string): Enqueue {
  return async (batches) => {
    for (let i = 0; i < batches.length; i += PER_CALL) {
      let entries = batches.slice(i, i + PER_CALL).map((b) => ({ Id: String(b.batch), MessageBody: JSON.stringify(b) }));
      for (let attempt = 1; entries.length > 0; attempt++) {
        const res = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
        const failed = new Set((res.Failed ?? []).map((f) => f.Id));
        entries = entries.filter((e) => failed.has(e.Id));
        if (entries.length > 0 && attempt >= ATTEMPTS) {
          throw new ShadowplugError(`SQS refused ${entries.length} fan-out batches: ${(res.Failed ?? []).map((f) => `${f.Code}: ${f.Message}`).join('; ')}`, { code: 'FANOUT_ENQUEUE_FAILED', retryable: true });
        }
      }
    }
  };
}
