/**
 * Roll-out mode in the sandbox: the Jobs stand-in as the Lambda path's `JobCreator` (CreateJob
 * in process), and the roll-out's end as the SNS message the stack sends (core/jobs/rollout-notice.ts).
 */
import type { JobCreator } from '../core/jobs/file-job';
import type { RolloutEnd } from '../core/jobs/rollout-notice';
import type { IotCore } from './iot-core';
import { ShadowplugError } from '../core/errors';
import type { JobSummary } from './iot/jobs-service';

export function inProcessJobCreator(iot: IotCore): JobCreator {
  return {
    async createJob(request) {
      try {
        iot.jobs.createJob({ jobId: request.jobId, targets: request.targets, document: request.document, settings: request.settings });
        return true;
      } catch (err) {
        if (err instanceof ShadowplugError && err.code === 'JOBS_RESOURCE_ALREADY_EXISTS') return false;
        throw err;
      }
    },
  };
}

export function rolloutEndOf(job: JobSummary): RolloutEnd {
  const c = job.counts;
  return {
    jobId: job.jobId,
    status: job.status === 'COMPLETED' ? 'COMPLETED' : 'CANCELED',
    ...(job.comment ? { comment: job.comment } : {}),
    counts: { succeeded: c.SUCCEEDED, failed: c.FAILED, rejected: c.REJECTED, timedOut: c.TIMED_OUT, canceled: c.CANCELED, inProgress: c.IN_PROGRESS + c.QUEUED, targets: job.targets },
    failures: job.failures.map((f) => ({ thingName: f.thingName, status: f.status, ...(f.statusDetails?.code ? { code: f.statusDetails.code } : {}), ...(f.statusDetails?.message ? { message: f.statusDetails.message } : {}) })),
  };
}
