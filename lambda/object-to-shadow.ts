/**
 * Lambda behind the bucket's ObjectCreated / ObjectRemoved notifications: every upload becomes
 * `state.desired.<property> = { url, hash, ... }` in the right thing shadows (see
 * docs/object-to-shadow.md). Thin: the work is in core/s3. `createHandler` takes its clients as
 * parameters (the sandbox passes ones pointed at its local S3 and IoT Core); only the default
 * `handler` builds clients, from `process.env`, once per container.
 */
import type { Context, S3Event } from 'aws-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { createLogger, type Logger } from '../core/logger';
import { parseObjectConfig, type ObjectConfig } from '../core/s3/config';
import { ObjectEventFailedError } from '../core/s3/errors';
import { processObjectEvent, type Outcome } from '../core/s3/process-event';
import { emfLine, OBJECT_METRICS, SERVICES } from '../core/metrics/emf';

export type { Outcome, RecordOutcome, ThingOutcome } from '../core/s3/process-event';

export interface ObjectToShadowDeps {
  s3: S3Client;
  iotData: IoTDataPlaneClient;
  config: ObjectConfig;
  logger?: Logger;
  /** Epoch milliseconds. */
  clock?: () => number;
  /** Where the embedded-metric line goes (the Lambda entry point: stdout, which Lambda sends to CloudWatch Logs); none by default. */
  writeMetrics?: (line: string) => void;
}

export type ObjectToShadowHandler = (event: S3Event, context?: Pick<Context, 'awsRequestId'>) => Promise<Outcome>;

/**
 * The handler: resolves with the per-record outcome, or throws `ObjectEventFailedError`
 * (carrying that outcome in `.outcome`) when a record could not be applied, so Lambda retries.
 */
export function createHandler(deps: ObjectToShadowDeps): ObjectToShadowHandler {
  const base = deps.logger ?? createLogger({ json: true, level: deps.config.logLevel, clock: deps.clock, fields: { service: SERVICES.object } });
  const now = deps.clock ?? Date.now;
  const { writeMetrics } = deps;
  return async (event, context): Promise<Outcome> => {
    // Every line of this invocation carries Lambda's request id.
    const logger = context?.awsRequestId ? base.child({ awsRequestId: context.awsRequestId }) : base;
    const { outcome, failures } = await processObjectEvent(event, { s3: deps.s3, iotData: deps.iotData, config: deps.config, logger });
    const failedWrites = outcome.records.flatMap((r) => ('things' in r && r.things ? r.things : [])).filter((t) => t.result === 'failed').length;
    writeMetrics?.(emfLine(SERVICES.object, { [OBJECT_METRICS.shadowWritesFailed]: failedWrites }, now()));
    if (failures.length > 0) throw new ObjectEventFailedError(failures, outcome);
    return outcome;
  };
}

let defaultHandler: ObjectToShadowHandler | undefined;

/** The Lambda entry point: configuration validated and clients built on the first invocation. */
export const handler = async (event: S3Event, context?: Pick<Context, 'awsRequestId'>): Promise<Outcome> => {
  if (!defaultHandler) {
    const config = parseObjectConfig(process.env);
    defaultHandler = createHandler({
      s3: new S3Client({}),
      iotData: new IoTDataPlaneClient(config.iotDataEndpoint ? { endpoint: config.iotDataEndpoint } : {}),
      config,
      writeMetrics: (line) => void process.stdout.write(line + '\n'),
    });
  }
  return defaultHandler(event, context);
};
