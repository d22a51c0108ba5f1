/**
 * The worker's side of a fan-out: each thing of one batch decided and written as the in-process
 * path does, every write taking a token from the shared bucket first. A throttled write
 * (SHADOW_THROTTLED) pauses the bucket and retries after a jittered exponential backoff; a thing
 * still throttled, or failing in a way a retry may fix, makes the batch come back (SQS redelivers
 * it alone; things written already are then `unchanged`). Pure: writer, bucket and sleep are parameters.
 */
import { ShadowplugError, errorMessage } from '../errors';
import type { Logger } from '../logger';
import { decideForKey } from '../s3/desired';
import type { ShadowDecision, ShadowWriter } from '../s3/shadow-writer';
import type { FanOutBatch } from './message';
import type { TokenBucket } from './token-bucket';
import { mapLimit } from '../util/map-limit';

export interface BatchCounts {
  /** The shadow now names this upload's object (or was cleared for a deleted key). */
  written: number;
  /** Already did: nothing sent. */
  unchanged: number;
  /** The thing follows a newer key, or never named this one: nothing to do. */
  skipped: number;
  failed: number;
}

export interface BatchResult {
  counts: BatchCounts;
  /** Things not settled, with why (throttled or failed). */
  failures: { thing: string; code: string; message: string; retryable: boolean }[];
  /** Some failure may go away on a retry: the batch should come back. */
  retry: boolean;
  /** Throttled responses met (each followed by a backoff). */
  throttles: number;
}

export interface WriteBatchDeps {
  writer: Pick<ShadowWriter, 'apply'>;
  bucket: TokenBucket;
  sleep: (ms: number) => Promise<void>;
  logger: Logger;
}

/** Writes in flight at once: the bucket sets the rate, this only hides latency. */
const CONCURRENCY = 16;
/** Backoffs after a throttle before the thing counts as throttled: 0.1 s → 1.6 s. */
const THROTTLE_RETRIES = 5;
const BACKOFF_BASE_MS = 100;

const isThrottle = (err: unknown): boolean => err instanceof ShadowplugError && err.code === 'SHADOW_THROTTLED';

export async function writeBatch(batch: FanOutBatch, deps: WriteBatchDeps): Promise<BatchResult> {
  const counts: BatchCounts = { written: 0, unchanged: 0, skipped: 0, failed: 0 };
  const failures: BatchResult['failures'] = [];
  let retry = false;
  let throttles = 0;

  const one = async (thing: string): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      await deps.bucket.take();
      try {
        const r = await deps.writer.apply(thing, (current): ShadowDecision<'unchanged' | 'skipped'> => {
          const d = decideForKey(current, batch.change, batch.state, batch.hash);
          if (d.action === 'write') return d;
          if (d.action === 'clear') return { action: 'write', value: null };
          return { action: 'skip', reason: d.action === 'skip' && d.reason === 'unchanged' ? 'unchanged' : 'skipped' };
        });
        if (r.result === 'written') counts.written++;
        else counts[r.reason]++;
        return;
      } catch (err) {
        if (isThrottle(err)) {
          throttles++;
          if (attempt < THROTTLE_RETRIES) {
            // Full jitter: writers that were throttled together do not come back together.
            const delay = BACKOFF_BASE_MS * 2 ** attempt * (0.5 + Math.random() / 2);
            deps.bucket.pause(delay);
            await deps.sleep(delay);
            continue;
          }
        }
        const typed = err instanceof ShadowplugError ? err : undefined;
        const retryable = typed ? typed.retryable : true;
        retry ||= retryable;
        counts.failed++;
        failures.push({ thing, code: isThrottle(err) ? 'THROTTLED' : (typed?.code ?? 'UNEXPECTED'), message: errorMessage(err), retryable });
        deps.logger.warn('fan-out shadow write failed', { thing, uploadId: batch.uploadId, batch: batch.batch, err });
        return;
      }
    }
  };

  await mapLimit(batch.things, CONCURRENCY, one);
  return { counts, failures, retry, throttles };
}
