/**
 * The fan-out worker handler (lambda/fanout-worker.ts) behind the in-process queue, writing through
 * the real data-plane API of the IoT Core stand-in: every thing of every batch gets the upload,
 * the summary comes once, a repeat delivery finds everything current, and a message the worker
 * cannot read ends in the dead-letter list, from which a redrive brings it back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { batchesOf } from '../../../core/fleet/message';
import { MemoryLedger, type UploadSummary } from '../../../core/fleet/progress';
import { TokenBucket } from '../../../core/fleet/token-bucket';
import { silentLogger } from '../../../core/logger';
import { ShadowWriter } from '../../../core/s3/shadow-writer';
import type { ObjectChange } from '../../../core/s3/event';
import { createFanOutWorker } from '../../../lambda/fanout-worker';
import { InProcessQueue } from '../../../sandbox/fleet-queue';
import { startTestIotCore, type TestIotCore } from '../../helpers/iot-core-clients';

let iot: TestIotCore;
let sdk: IoTDataPlaneClient;

beforeAll(async () => {
  iot = await startTestIotCore({ sharedDeviceKey: true });
  sdk = iot.createDataPlaneClient();
});
afterAll(async () => {
  sdk?.destroy();
  await iot?.close();
});

const hash = 'c'.repeat(64);
const change = (key: string): ObjectChange => ({ kind: 'created', eventName: 'ObjectCreated:Put', bucket: 'files', key, sequencer: '0A', eventTime: '2026-12-06T00:00:00.000Z', size: 5, eTag: 'e1' });
const state = { exists: true as const, size: 5, eTag: 'e1' };

function fanOut(maxReceiveCount = 3) {
  const summaries: UploadSummary[] = [];
  const metrics: string[] = [];
  const worker = createFanOutWorker({
    writer: new ShadowWriter(sdk, { property: 's3', conflictRetries: 5 }),
    bucket: new TokenBucket({ ratePerSecond: 2000, clock: () => performance.now(), sleep: (ms) => sleep(ms) }),
    ledger: new MemoryLedger(),
    maxReceiveCount,
    sleep: (ms) => sleep(ms),
    logger: silentLogger,
    notify: async (summary) => void summaries.push(summary),
    writeMetrics: (line) => void metrics.push(line),
  });
  const queue = new InProcessQueue({ handler: worker, maxReceiveCount, visibilityMs: 10 });
  return { queue, summaries, metrics };
}

const desiredHash = (thing: string) => (iot.shadows.get(thing) as { state?: { desired?: { s3?: { hash?: string } } } } | undefined)?.state?.desired?.s3?.hash;

describe('fan-out worker', () => {
  it('writes every thing of every batch and sends one summary with the upload\'s counts', async () => {
    const things = Array.from({ length: 230 }, (_, i) => `fan-a-${i}`);
    const { queue, summaries, metrics } = fanOut();
    const batches = batchesOf(change('a.bin'), state, hash, things, 100);
    queue.send(batches.map((b) => JSON.stringify(b)));
    await queue.idle();
    expect(things.filter((t) => desiredHash(t) !== hash)).toEqual([]);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ targets: 230, batches: 3, written: 230, failed: 0, failedBatches: 0, key: 'a.bin' });
    const line = JSON.parse(metrics.find((m) => m.includes('FanOutTargets'))!) as Record<string, unknown>;
    expect(line).toMatchObject({ FanOutTargets: 230, FanOutWritten: 230, FanOutFailed: 0, uploadId: batches[0]!.uploadId });

    // The same batches again (an S3 event retried after its batches were queued): nothing to write.
    const again = fanOut();
    again.queue.send(batches.map((b) => JSON.stringify(b)));
    await again.queue.idle();
    expect(again.summaries[0]).toMatchObject({ written: 0, unchanged: 230 });
  });

  it('a message the worker cannot read goes to the dead-letter list and comes back on redrive', async () => {
    const { queue, summaries } = fanOut(2);
    queue.send(['{"not":"a batch"}']);
    await queue.idle();
    expect(queue.deadLettered).toEqual(['{"not":"a batch"}']);
    expect(queue.redrive()).toBe(1);
    await queue.idle();
    expect(queue.deadLettered).toHaveLength(1);
    expect(summaries).toHaveLength(0);
  });

  it('backs off when the data plane throttles (429) and loses no write', async () => {
    // Every tenth request refused, whatever the machine's speed (a rate would throttle only a fast machine).
    let requests = 0;
    const slow = await startTestIotCore({ sharedDeviceKey: true, dataPlaneThrottle: () => ++requests % 10 !== 0 });
    const client = slow.createDataPlaneClient({ maxAttempts: 1 });
    try {
      const summaries: UploadSummary[] = [];
      let throttles = 0;
      const worker = createFanOutWorker({
        writer: new ShadowWriter(client, { property: 's3', conflictRetries: 5 }),
        bucket: new TokenBucket({ ratePerSecond: 2000, clock: () => performance.now(), sleep: (ms) => sleep(ms) }),
        ledger: new MemoryLedger(),
        maxReceiveCount: 5,
        sleep: (ms) => sleep(ms),
        logger: silentLogger,
        notify: async (summary) => void summaries.push(summary),
        writeMetrics: (line) => void (throttles += Number((JSON.parse(line) as { FanOutThrottles?: number }).FanOutThrottles ?? 0)),
      });
      const queue = new InProcessQueue({ handler: worker, maxReceiveCount: 5, visibilityMs: 50 });
      const things = Array.from({ length: 100 }, (_, i) => `slow-${i}`);
      queue.send(batchesOf(change('slow.bin'), state, hash, things, 50).map((b) => JSON.stringify(b)));
      await queue.idle();
      expect(throttles).toBeGreaterThan(0);
      expect(summaries).toHaveLength(1);
      expect(summaries[0]).toMatchObject({ targets: 100, failed: 0 });
      expect(things.filter((t) => (slow.shadows.get(t) as { state?: { desired?: { s3?: { hash?: string } } } } | undefined)?.state?.desired?.s3?.hash !== hash)).toEqual([]);
    } finally {
      client.destroy();
      await slow.close();
    }
  });
});
