/**
 * Roll-out mode's function behind the bucket's ObjectCreated notifications: an upload under the
 * prefix becomes one IoT Job. Throws when a record failed, so Lambda retries (a job already created is found).
 */
import type { S3Event } from 'aws-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { IoTClient } from '@aws-sdk/client-iot';
import { ShadowplugError, errorMessage } from '../core/errors';
import { createLogger, type Logger } from '../core/logger';
import { parseRolloutConfig, type RolloutConfig } from '../core/jobs/config';
import { createFileJob, type FileJobOutcome, type JobCreator } from '../core/jobs/file-job';
import { iotJobCreator } from '../core/jobs/iot-jobs';
import { parseS3Event } from '../core/s3/event';

export interface UploadToJobDeps {
  s3: S3Client;
  creator: JobCreator;
  config: RolloutConfig;
  logger?: Logger;
}

export function createHandler(deps: UploadToJobDeps): (event: S3Event) => Promise<FileJobOutcome[]> {
  const logger = deps.logger ?? createLogger({ json: true, fields: { service: 'upload-to-job' } });
  const config = { prefix: deps.config.keyPrefix, targets: deps.config.targets, settings: deps.config.settings, partSizeBytes: 8 * 1024 * 1024, concurrency: 8 };
  return async (event) => {
    const outcomes: FileJobOutcome[] = [];
    const failures: string[] = [];
    for (const record of parseS3Event(event)) {
      if (record.type !== 'change') continue;
      try {
        const outcome = await createFileJob(deps.s3, deps.creator, config, record.change);
        logger.info('upload handled', { ...outcome });
        outcomes.push(outcome);
      } catch (err) {
        logger.error('upload not turned into a job', { key: record.change.key, err });
        failures.push(`${record.change.key}: ${errorMessage(err)}`);
      }
    }
    if (failures.length > 0) throw new ShadowplugError(`could not create jobs for ${failures.join('; ')}`, { code: 'ROLLOUT_JOB_FAILED', retryable: true });
    return outcomes;
  };
}

let defaultHandler: ((event: S3Event) => Promise<FileJobOutcome[]>) | undefined;

export const handler = async (event: S3Event): Promise<FileJobOutcome[]> => {
  defaultHandler ??= createHandler({ s3: new S3Client({}), creator: iotJobCreator(new IoTClient({})), config: parseRolloutConfig(process.env) });
  return defaultHandler(event);
};
