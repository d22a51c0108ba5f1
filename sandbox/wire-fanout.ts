/**
 * The fan-out as deployed, in process: the object function's batches go to an in-process queue and
 * the deployed worker (lambda/fanout-worker.ts) writes them at the configured rate, with no SDK retries.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TokenBucket } from '../core/fleet/token-bucket';
import { MemoryLedger } from '../core/fleet/progress';
import type { Enqueue } from '../core/fleet/sqs-queue';
import { ShadowWriter } from '../core/s3/shadow-writer';
import type { Logger } from '../core/logger';
import { createFanOutWorker } from '../lambda/fanout-worker';
import { InProcessQueue } from './fleet-queue';
import type { IotCore } from './iot-core';
import type { Emit } from './narration';
import type { Teardown } from './teardown';

/** As deployed (lib/constructs/fan-out.ts): five deliveries, then the dead-letter list. */
const MAX_RECEIVE_COUNT = 5;
export const SANDBOX_TOPIC_ARN = 'arn:aws:sns:local:000000000000:shadowplug-sandbox';

export interface FanOutWiring {
  property: string;
  /** Shadow writes per second (the deployed worker's setting). */
  ratePerSecond: number;
  logger: Logger;
  /** The worker's embedded-metric lines (default: none). */
  writeMetrics?: (line: string) => void;
}

export function wireFanOut(iot: IotCore, options: FanOutWiring, emit: Emit, teardown: Teardown): { enqueue: Enqueue; queue: InProcessQueue } {
  const iotData = iot.createDataPlaneClient({ maxAttempts: 1 });
  teardown.add('fan-out data-plane client', async () => iotData.destroy());
  const logger = options.logger.child({ fn: 'fanout-worker' });
  const ledger = new MemoryLedger();
  // One bucket at the whole rate, shared by the concurrent invocations: the deployed instances
  // each take their share of it (lib/constructs/fan-out.ts), so the fleet sees the same rate.
  const worker = createFanOutWorker({
    writer: new ShadowWriter(iotData, { property: options.property, conflictRetries: 5, logger }),
    bucket: new TokenBucket({ ratePerSecond: options.ratePerSecond, clock: () => performance.now(), sleep: (ms) => sleep(ms) }),
    ledger,
    maxReceiveCount: MAX_RECEIVE_COUNT,
    sleep: (ms) => sleep(ms),
    logger,
    notify: async (_summary, text) => emit({ type: 'notification', topicArn: SANDBOX_TOPIC_ARN, ...text }),
    ...(options.writeMetrics ? { writeMetrics: options.writeMetrics } : {}),
  });
  const queue = new InProcessQueue({
    handler: worker,
    maxReceiveCount: MAX_RECEIVE_COUNT,
    // As deployed: two invocations at once, a failed batch back after the visibility timeout.
    concurrency: 2,
    batchSize: 5,
    visibilityMs: 1_000,
    onError: (err) => logger.error('fan-out worker invocation failed', { err }),
  });
  teardown.onClosing(() => queue.stop());
  return { queue, enqueue: async (batches) => queue.send(batches.map((b) => JSON.stringify(b))) };
}
