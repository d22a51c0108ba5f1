/**
 * Roll-out mode: an upload under the configured prefix becomes one IoT Job whose document carries
 * the value the shadow path would write, for the configured targets and roll-out. The job id names
 * the object version, so a repeated event finds the job there and does nothing.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { currentObject } from '../s3/object-get';
import { buildDesired } from '../s3/desired';
import type { ObjectChange } from '../s3/event';
import { hashObject } from '../s3/object-hash';
import { fileJobId, serializeJobDocument } from './job-document';
import { leftToCompanion, releaseTarget } from '../release/companion';
import { withRelease } from '../release/companion-read';
import { silentLogger } from '../logger';
import type { RolloutSettings } from './rollout-config';

export interface CreateJobRequest {
  jobId: string;
  /** Thing or thing-group ARNs (AWS); thing names (the sandbox). */
  targets: readonly string[];
  document: string;
  settings: RolloutSettings;
}

export interface JobCreator {
  /** Resolves false when a job with this id exists already. */
  createJob(request: CreateJobRequest): Promise<boolean>;
}

export interface FileJobConfig {
  /** Only keys starting with this become jobs ('' = every key). */
  prefix: string;
  targets: readonly string[];
  settings: RolloutSettings;
  partSizeBytes: number;
  concurrency: number;
}

export type FileJobOutcome =
  | { status: 'created' | 'exists'; jobId: string; key: string; hash: string }
  | { status: 'skipped'; key: string; reason: 'outside-prefix' | 'removed' | 'object-missing' | 'release-counter' | 'release-pending' };

export async function createFileJob(s3: S3Client, creator: JobCreator, config: FileJobConfig, event: ObjectChange): Promise<FileJobOutcome> {
  // A companion release object makes the job of its key (now signed); the release counter none.
  const change = releaseTarget(event);
  if (change === 'counter') return { status: 'skipped', key: event.key, reason: 'release-counter' };
  const { bucket, key } = change;
  if (!key.startsWith(config.prefix)) return { status: 'skipped', key, reason: 'outside-prefix' };
  if (change.kind === 'removed') return { status: 'skipped', key, reason: 'removed' };
  const state = await withRelease(s3, bucket, key, await currentObject(s3, bucket, key), silentLogger);
  if (!state.exists) return { status: 'skipped', key, reason: 'object-missing' };
  // Published signed: the job is made by the companion's event, once.
  if (leftToCompanion(change, state)) return { status: 'skipped', key, reason: 'release-pending' };
  const { hash } = await hashObject(s3, { bucket, key, size: state.size, versionId: state.versionId, eTag: state.eTag || undefined }, { partSizeBytes: config.partSizeBytes, concurrency: config.concurrency });
  const file = buildDesired(bucket, key, state, hash, { sequencer: change.sequencer, eventTime: change.eventTime });
  const jobId = fileJobId(file);
  const created = await creator.createJob({ jobId, targets: config.targets, document: serializeJobDocument({ ...file }), settings: config.settings });
  return { status: created ? 'created' : 'exists', jobId, key, hash };
}
