/**
 * Lambda behind the bucket's ObjectCreated / ObjectRemoved notifications: every upload becomes
 * `state.desired.<property> = { url, hash, ... }` in the right thing shadows (see
 * docs/object-to-shadow.md). Thin: the work is in core/s3. `createHandler` takes its clients as
 * parameters (the sandbox passes ones pointed at its local S3 and IoT Core); only the default
 * `handler` builds clients, from `process.env`, once per container.
 */
import type { S3Event } from 'aws-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { createLogger, type Logger } from '../core/logger';
import { parseObjectConfig, type ObjectConfig } from '../core/s3/config';
import { ObjectEventFailedError } from '../core/s3/errors';
import { processObjectEvent, type Outcome } from '../core/s3/process-event';

export type { Outcome, RecordOutcome, ThingOutcome } from '../core/s3/process-event';

export interface ObjectToShadowDeps {
  s3: S3Client;
  iotData: IoTDataPlaneClient;
  config: ObjectConfig;
  logger?: Logger;
  clock?: () => Date;
}

export type ObjectToShadowHandler = (event: S3Event) => Promise<Outcome>;

/**
 * The handler: resolves with the per-record outcome, or throws `ObjectEventFailedError`
 * (carrying that outcome in `.outcome`) when a record could not be applied, so Lambda retries.
 */
export function createHandler(deps: ObjectToShadowDeps): ObjectToShadowHandler {
  const logger = deps.logger ?? createLogger({ json: true, level: deps.config.logLevel, clock: deps.clock, fields: { fn: 'object-to-shadow' } });
  return async (event: S3Event): Promise<Outcome> => {
    const { outcome, failures } = await processObjectEvent(event, { s3: deps.s3, iotData: deps.iotData, config: deps.config, logger });
    if (failures.length > 0) throw new ObjectEventFailedError(failures, outcome);
    return outcome;
  };
}

let defaultHandler: ObjectToShadowHandler | undefined;

/** The Lambda entry point: configuration validated and clients built on the first invocation. */
export const handler = async (event: S3Event): Promise<Outcome> => {
  if (!defaultHandler) {
    const config = parseObjectConfig(process.env);
    defaultHandler = createHandler({
      s3: new S3Client({}),
      iotData: new IoTDataPlaneClient(config.iotDataEndpoint ? { endpoint: config.iotDataEndpoint } : {}),
      config,
    });
  }
  return defaultHandler(event);
};
