/**
 * `shadowplug sandbox --rollout`: every upload becomes an IoT Job for the things (or the groups'
 * members when the job is created) through the Lambda path (core/jobs/file-job.ts) with the Jobs
 * stand-in as its CreateJob; the roll-out is narrated and its end sent as the stack's SNS message.
 */
import type { S3Event } from 'aws-lambda';
import { errorMessage, ShadowplugError } from '../core/errors';
import { createFileJob, type JobCreator } from '../core/jobs/file-job';
import { parseJobDocument } from '../core/jobs/job-document';
import { rolloutNotice, type RolloutEnd } from '../core/jobs/rollout-notice';
import type { RolloutSettings } from '../core/jobs/rollout-config';
import { parseS3Event } from '../core/s3/event';
import type { IotCore } from './iot-core';
import type { LocalS3 } from './local-s3';
import { uploadEvents, type Emit } from './narration';
import type { JobSummary } from './iot/jobs-service';
import type { SandboxConfig } from './sandbox-config';
import type { Teardown } from './teardown';

/** The SNS topic of roll-out ends: nothing in AWS; its messages become `notification` events. */
export const ROLLOUT_TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:shadowplug-sandbox-rollouts';

/** A snapshot job's targets: the groups' members when the job is created (as uploads on the shadow path), or the things by name. */
function targetsOf({ things, groups }: SandboxConfig, iot: IotCore): string[] {
  if (groups.targets.length === 0) return [...things];
  return [...new Set(groups.targets.flatMap((g) => iot.groups.members(g, true) ?? []))];
}

export function wireRollout(config: SandboxConfig, settings: RolloutSettings, s3: LocalS3, iot: IotCore, emit: Emit, teardown: Teardown): (event: S3Event) => Promise<void> {
  const client = s3.createClient();
  teardown.add('roll-out S3 client', async () => client.destroy());
  const inProcess = inProcessJobCreator(iot);
  // Told before CreateJob: the stand-in releases the first wave inside it, and the page and the
  // narration must know the roll-out before its first wave.
  const creator: JobCreator = {
    async createJob(request) {
      if (iot.jobs.describeJob(request.jobId)) return false;
      const { file } = parseJobDocument(JSON.parse(request.document));
      emit({ type: 'rollout-created', jobId: request.jobId, key: String(file.key), hash: String(file.hash), targets: new Set(request.targets).size });
      return inProcess.createJob(request);
    },
  };
  const stop = iot.jobs.onEvent((e) => {
    if (e.type === 'wave') emit({ type: 'rollout-wave', jobId: e.jobId, minute: e.wave.minute, things: e.wave.things });
    else if (e.type === 'execution' && e.status !== 'QUEUED') emit({ type: 'rollout-execution', jobId: e.jobId, thing: e.thingName, status: e.status, ...(e.statusDetails?.code ? { code: e.statusDetails.code } : {}) });
    else if (e.type === 'completed' || e.type === 'canceled') {
      const c = e.job.counts;
      emit({ type: 'rollout-ended', jobId: e.job.jobId, status: e.job.status, succeeded: c.SUCCEEDED, failed: c.FAILED + c.REJECTED + c.TIMED_OUT, canceled: c.CANCELED, notNotified: c.notNotified, ...(e.job.comment ? { reason: e.job.comment } : {}) });
      const notice = rolloutNotice(rolloutEndOf(e.job));
      emit({ type: 'notification', topicArn: ROLLOUT_TOPIC_ARN, subject: notice.subject, message: notice.message });
    }
  });
  teardown.add('roll-out narration', async () => void stop());
  return async (event) => {
    uploadEvents(event).forEach(emit);
    for (const record of parseS3Event(event)) {
      if (record.type !== 'change') continue;
      try {
        const targets = targetsOf(config, iot);
        if (targets.length === 0) {
          emit({ type: 'upload-ignored', key: record.change.key, message: `no job: the thing groups ${config.groups.targets.join(', ')} have no members` });
          continue;
        }
        const job = { prefix: '', targets, settings, partSizeBytes: 8 * 1024 * 1024, concurrency: 4 };
        const outcome = await createFileJob(client, creator, job, record.change);
        if (outcome.status === 'skipped' && outcome.reason === 'release-pending') emit({ type: 'release-pending', key: outcome.key });
        // A release's counter is no upload of its own.
        else if (outcome.status === 'skipped' && outcome.reason !== 'release-counter') emit({ type: 'upload-ignored', key: outcome.key, message: outcome.reason });
      } catch (err) {
        emit({ type: 'upload-failed', key: record.change.key, message: errorMessage(err) });
      }
    }
  };
}

/** The Jobs stand-in as the Lambda path's `JobCreator` (CreateJob in process). */
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

/** The roll-out's end as the SNS message the stack sends takes it. */
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
