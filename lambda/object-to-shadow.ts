/**
 * Lambda behind the bucket's ObjectCreated / ObjectRemoved notifications: every upload becomes
 * `state.desired.<property> = { url, hash, ... }` in the right thing shadows. Thin: the work is in
 * core/s3; only the default `handler` builds clients, once per container.
 */
import type { Context, S3Event, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { IoTClient } from '@aws-sdk/client-iot';
import { SQSClient } from '@aws-sdk/client-sqs';
import { listThingGroupPage } from '../core/fleet/iot-groups';
import { sqsEnqueue, type Enqueue } from '../core/fleet/sqs-queue';
import { TargetResolver } from '../core/fleet/targets';
import { createLogger, type Logger } from '../core/logger';
import { parseObjectConfig, type ObjectConfig } from '../core/s3/config';
import { ObjectEventFailedError } from '../core/s3/s3-errors';
import { processObjectEvent, type Outcome } from '../core/s3/process-event';
import { emfLine, OBJECT_METRICS, SERVICES } from '../core/metrics/emf';

export interface ObjectToShadowDeps {
  s3: S3Client;
  iotData: IoTDataPlaneClient;
  config: ObjectConfig;
  /** Needed when `config.thingGroups` is not empty. */
  targets?: TargetResolver;
  /** Needed for more than `config.fanOutAbove` targets. */
  enqueue?: Enqueue;
  logger?: Logger;
  /** Epoch milliseconds. */
  clock?: () => number;
  /** Where the embedded-metric line goes (in Lambda: stdout, which goes to CloudWatch Logs). */
  writeMetrics?: (line: string) => void;
}

export type ObjectToShadowHandler = (event: S3Event, context?: Pick<Context, 'awsRequestId'>) => Promise<Outcome>;

/** Resolves with the per-record outcome, or throws `ObjectEventFailedError` (carrying it) when a record failed, so Lambda retries. */
export function createHandler(deps: ObjectToShadowDeps): ObjectToShadowHandler {
  const base = deps.logger ?? createLogger({ json: true, level: deps.config.logLevel, clock: deps.clock, fields: { service: SERVICES.object } });
  const now = deps.clock ?? Date.now;
  const { writeMetrics } = deps;
  return async (event, context): Promise<Outcome> => {
    const logger = context?.awsRequestId ? base.child({ awsRequestId: context.awsRequestId }) : base;
    const { outcome, failures } = await processObjectEvent(event, { s3: deps.s3, iotData: deps.iotData, config: deps.config, logger, targets: deps.targets, enqueue: deps.enqueue });
    const failedWrites = outcome.records.flatMap((r) => ('things' in r && r.things ? r.things : [])).filter((t) => t.result === 'failed').length;
    writeMetrics?.(emfLine(SERVICES.object, { [OBJECT_METRICS.shadowWritesFailed]: failedWrites }, now()));
    if (failures.length > 0) throw new ObjectEventFailedError(failures, outcome);
    return outcome;
  };
}

/**
 * Replayed events, from the replay queue: each message is a failure record Lambda wrote to the
 * failed-events queue (the S3 event in `requestPayload`) or an S3 event itself, moved there with
 * `aws sqs start-message-move-task` (docs/deploy.md). A message that fails again is reported, so
 * the queue returns it and, after its retries, moves it back to the failed-events queue.
 */
export function createReplayHandler(handle: ObjectToShadowHandler): (event: SQSEvent, context?: Pick<Context, 'awsRequestId'>) => Promise<SQSBatchResponse> {
  return async (event, context) => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const body = JSON.parse(record.body) as { requestPayload?: S3Event } & Partial<S3Event>;
        const s3Event = body.requestPayload ?? body;
        if (!Array.isArray(s3Event.Records)) throw new Error('neither an S3 event nor a Lambda failure record');
        await handle(s3Event as S3Event, context);
      } catch {
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}

let defaultHandler: ObjectToShadowHandler | undefined;

const fromQueue = (event: S3Event | SQSEvent): event is SQSEvent => (event.Records?.[0] as { eventSource?: string } | undefined)?.eventSource === 'aws:sqs';

/** Configuration validated and clients built on the first invocation. */
export const handler = async (event: S3Event | SQSEvent, context?: Pick<Context, 'awsRequestId'>): Promise<Outcome | SQSBatchResponse> => {
  if (!defaultHandler) {
    const config = parseObjectConfig(process.env);
    defaultHandler = createHandler({
      s3: new S3Client({}),
      iotData: new IoTDataPlaneClient(config.iotDataEndpoint ? { endpoint: config.iotDataEndpoint } : {}),
      config,
      ...(config.thingGroups?.length ? { targets: new TargetResolver(listThingGroupPage(new IoTClient({})), Date.now) } : {}),
      ...(config.fanOutQueueUrl ? { enqueue: sqsEnqueue(new SQSClient({}), config.fanOutQueueUrl) } : {}),
      writeMetrics: (line) => void process.stdout.write(line + '\n'),
    });
  }
  return fromQueue(event) ? createReplayHandler(defaultHandler)(event, context) : defaultHandler(event, context);
};
