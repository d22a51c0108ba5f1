/**
 * The object Lambda behind the bucket's notifications, configured as the stack configures it
 * (the same `objectFunctionEnvironment(settings)`), with SDK clients for the local S3 and the
 * local data-plane API, invoked asynchronously with Lambda's retries, its work narrated.
 */
import type { S3Event } from 'aws-lambda';
import { errorMessage } from '../core/errors';
import { objectFunctionEnvironment, parseObjectConfig } from '../core/s3/config';
import { createHandler as createObjectHandler } from '../lambda/object-to-shadow';
import type { IotCore } from './iot-core';
import { asyncInvoker } from './lambda-async';
import type { LocalS3 } from './local-s3';
import { objectOutcomeEvents, uploadEvents, uploadFailedEvent, type Emit } from './narration';
import type { SandboxConfig } from './sandbox-config';
import type { Teardown } from './teardown';

/** The bucket notification target: narrates the uploads, then runs the first attempt. */
export function wireObjectLambda(config: SandboxConfig, s3: LocalS3, iot: IotCore, emit: Emit, teardown: Teardown): (event: S3Event) => Promise<void> {
  const s3Client = s3.createClient();
  teardown.add('object Lambda S3 client', async () => s3Client.destroy());
  const iotData = iot.createDataPlaneClient();
  teardown.add('object Lambda IoT data client', async () => iotData.destroy());
  const handler = createObjectHandler({
    s3: s3Client,
    iotData,
    config: parseObjectConfig(objectFunctionEnvironment({ targetThings: config.things, iotDataEndpoint: iot.dataPlane.endpoint })),
    logger: config.logger.child({ fn: 'object-to-shadow' }),
  });
  const invoker = asyncInvoker(handler, {
    onOutcome: (outcome) => objectOutcomeEvents(outcome).forEach(emit),
    onError: (err, event, retryInMs) => emit(uploadFailedEvent(event, errorMessage(err), retryInMs)),
  });
  teardown.onClosing(() => invoker.stop());
  return async (event) => {
    uploadEvents(event).forEach(emit);
    await invoker.invoke(event);
  };
}
