/** Roll-out mode's notifier, behind the rule on IoT's job completed/canceled events: one SNS message naming the failed devices and their codes. */
import { IoTClient } from '@aws-sdk/client-iot';
import { parseRolloutConfig } from '../core/jobs/config';
import { failedExecutions } from '../core/jobs/iot-jobs';
import { rolloutNotice, type RolloutEnd } from '../core/jobs/rollout-notice';
import { snsPublisher, type Publish } from '../core/button/sns-publish';
import { isObject } from '../core/util/guards';
import { ShadowplugError } from '../core/errors';

export interface RolloutEndedDeps {
  failures: (jobId: string) => Promise<RolloutEnd['failures']>;
  publish: Publish;
  topicArn: string;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

export function createHandler(deps: RolloutEndedDeps): (event: unknown) => Promise<{ subject: string; message: string }> {
  return async (event) => {
    if (!isObject(event) || typeof event.jobId !== 'string' || (event.operation !== 'completed' && event.operation !== 'canceled')) {
      throw new ShadowplugError(`not a job completed/canceled event: ${JSON.stringify(event).slice(0, 200)}`, { code: 'ROLLOUT_EVENT_INVALID', retryable: false });
    }
    const d = isObject(event.jobProcessDetails) ? event.jobProcessDetails : {};
    const counts = {
      succeeded: num(d.numberOfSucceededThings),
      failed: num(d.numberOfFailedThings),
      rejected: num(d.numberOfRejectedThings),
      timedOut: num(d.numberOfTimedOutThings),
      canceled: num(d.numberOfCanceledThings),
      inProgress: num(d.numberOfInProgressThings) + num(d.numberOfQueuedThings),
      targets: Array.isArray(event.targets) ? event.targets.length : 0,
    };
    const notice = rolloutNotice({
      jobId: event.jobId,
      status: event.operation === 'completed' ? 'COMPLETED' : 'CANCELED',
      ...(typeof event.comment === 'string' ? { comment: event.comment } : typeof event.reasonCode === 'string' ? { comment: event.reasonCode } : {}),
      counts,
      failures: counts.failed + counts.rejected + counts.timedOut > 0 ? await deps.failures(event.jobId) : [],
    });
    await deps.publish({ topicArn: deps.topicArn, ...notice });
    return notice;
  };
}

let defaultHandler: ((event: unknown) => Promise<{ subject: string; message: string }>) | undefined;

export const handler = async (event: unknown) => {
  if (!defaultHandler) {
    const config = parseRolloutConfig(process.env);
    if (!config.topicArn) throw new ShadowplugError('ROLLOUT_TOPIC_ARN is required', { code: 'ROLLOUT_CONFIG_INVALID', retryable: false });
    const iot = new IoTClient({});
    defaultHandler = createHandler({ failures: (jobId) => failedExecutions(iot, jobId), publish: snsPublisher(), topicArn: config.topicArn });
  }
  return defaultHandler(event);
};
