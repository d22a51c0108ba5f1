/**
 * The object Lambda behind the bucket's notifications, configured through the stack's own
 * `objectFunctionEnvironment`, fanned out through the in-process queue, invoked asynchronously with
 * Lambda's retries; an event that fails them all is kept, as the stack's queue keeps it, until `redrive`.
 */
import type { S3Event } from 'aws-lambda';
import { errorMessage } from '../core/errors';
import { objectFunctionEnvironment, parseObjectConfig } from '../core/s3/config';
import { createHandler as createObjectHandler } from '../lambda/object-to-shadow';
import type { IotCore } from './iot-core';
import { asyncInvoker } from './lambda-async';
import { TargetResolver } from '../core/fleet/targets';
import { listThingGroupPage } from '../core/fleet/iot-groups';
import { wireFanOut } from './wire-fanout';
import { SHADOW_PROPERTY } from './sandbox-config';
import type { LocalS3 } from './local-s3';
import { objectOutcomeEvents, uploadEvents, uploadFailedEvent, type Emit } from './narration';
import type { SandboxConfig } from './sandbox-config';
import type { Teardown } from './teardown';

export function wireObjectLambda(config: SandboxConfig, s3: LocalS3, iot: IotCore, emit: Emit, teardown: Teardown) {
  const s3Client = s3.createClient();
  teardown.add('object Lambda S3 client', async () => s3Client.destroy());
  const iotData = iot.createDataPlaneClient();
  teardown.add('object Lambda IoT data client', async () => iotData.destroy());
  const controlPlane = iot.createControlPlaneClient();
  teardown.add('object Lambda IoT control-plane client', async () => controlPlane.destroy());
  const fanOut = wireFanOut(iot, { property: SHADOW_PROPERTY, ratePerSecond: config.fanOutWritesPerSecond, logger: config.logger }, emit, teardown);
  const groups = config.groups.targets;
  const handler = createObjectHandler({
    s3: s3Client,
    iotData,
    // With groups, uploads go to the groups' members (listed per upload), not to the things by name.
    config: parseObjectConfig(objectFunctionEnvironment({ targetThings: groups.length > 0 ? [] : config.things, ...(groups.length > 0 ? { thingGroups: groups } : {}), iotDataEndpoint: iot.dataPlane.endpoint })),
    targets: new TargetResolver(listThingGroupPage(controlPlane), Date.now, { ttlMs: config.groupCacheMs }),
    enqueue: fanOut.enqueue,
    logger: config.logger.child({ fn: 'object-to-shadow' }),
  });
  const failedEvents: S3Event[] = [];
  const invoker = asyncInvoker(handler, {
    onOutcome: (outcome) => objectOutcomeEvents(outcome).forEach(emit),
    onError: (err, event, retryInMs) => {
      if (retryInMs === undefined) failedEvents.push(event);
      emit(uploadFailedEvent(event, errorMessage(err), retryInMs));
    },
  });
  teardown.onClosing(() => invoker.stop());
  return {
    /** The bucket notification target: narrates the uploads, then runs the first attempt. */
    async onEvent(event: S3Event): Promise<void> {
      uploadEvents(event).forEach(emit);
      await invoker.invoke(event);
    },
    /** Runs every event that failed all its attempts again (the stack's failed-events queue); how many. */
    async redrive(): Promise<number> {
      const events = failedEvents.splice(0);
      for (const event of events) await invoker.invoke(event);
      return events.length;
    },
  };
}
