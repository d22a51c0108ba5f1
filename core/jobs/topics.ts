/** IoT Jobs MQTT topics of one thing (`$aws/things/<thing>/jobs/...`) and the execution statuses. Pure. */
export type ExecutionStatus = 'QUEUED' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'REJECTED' | 'TIMED_OUT' | 'CANCELED' | 'REMOVED';

export const TERMINAL_STATUSES: ReadonlySet<ExecutionStatus> = new Set(['SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT', 'CANCELED', 'REMOVED']);
/** What a device may set with UpdateJobExecution. */
export const DEVICE_STATUSES: ReadonlySet<ExecutionStatus> = new Set(['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED']);

export type JobTopics = ReturnType<typeof jobTopics>;

export function jobTopics(thingName: string) {
  const prefix = `$aws/things/${thingName}/jobs`;
  return {
    prefix,
    notify: `${prefix}/notify`,
    notifyNext: `${prefix}/notify-next`,
    get: `${prefix}/get`,
    startNext: `${prefix}/start-next`,
    startNextAccepted: `${prefix}/start-next/accepted`,
    startNextRejected: `${prefix}/start-next/rejected`,
    update: (jobId: string) => `${prefix}/${jobId}/update`,
    // Every job's update replies.
    updateReplies: [`${prefix}/+/update/accepted`, `${prefix}/+/update/rejected`],
  };
}

export type JobRequest = { thingName: string; operation: 'get' | 'start-next' } | { thingName: string; operation: 'job-get' | 'update'; jobId: string };

/** What a device's publish asks of the Jobs service, or undefined for any other topic. */
export function parseJobRequestTopic(topic: string): JobRequest | undefined {
  const m = /^\$aws\/things\/([^/]+)\/jobs\/(get|start-next|([^/]+)\/(get|update))$/.exec(topic);
  if (!m) return undefined;
  const [, thingName, whole, jobId, op] = m;
  if (jobId === undefined) return { thingName: thingName!, operation: whole as 'get' | 'start-next' };
  return { thingName: thingName!, operation: op === 'get' ? 'job-get' : 'update', jobId };
}
