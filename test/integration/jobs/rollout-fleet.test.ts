/**
 * The issue's proof: 40 real agents in roll-out mode on the IoT Core stand-in and the local S3.
 * An upload becomes one job (the Lambda path, createFileJob); the stand-in releases it minute by
 * minute (its clock is stepped by the test once a wave has settled); 6 devices cannot take the
 * file (a 1-byte size limit: OBJECT_TOO_LARGE). With them, the abort rule cancels the job and the
 * devices not yet reached never hear of it; without them, the job completes in waves whose sizes
 * follow the configured exponential rate. Each end sends one SNS message.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../../agent/agent';
import { CLASSIC_SHADOW, devicePolicy } from '../../../core/iot-policy/device-policy';
import { createFileJob } from '../../../core/jobs/file-job';
import { MINUTE_MS } from '../../../core/jobs/rollout';
import { parseRolloutSettings } from '../../../core/jobs/rollout-config';
import { startIotCore, type IotCore } from '../../../sandbox/iot-core';
import { startLocalS3, type LocalS3 } from '../../../sandbox/local-s3';
import { inProcessJobCreator, rolloutEndOf } from '../../../sandbox/wire-rollout';
import { rolloutNotice } from '../../../core/jobs/rollout-notice';
import { waitFor } from '../../helpers/agent-harness';

const BUCKET = 'shadowplug';
const DEVICES = 40;
const things = Array.from({ length: DEVICES }, (_, i) => `fleet-${String(i + 1).padStart(2, '0')}`);
/** Made to fail: a 1-byte size limit. Indexes 7, 9, 11, 13 fall in the third wave; 30 and 35 later. */
const FAILING = new Set([7, 9, 11, 13, 30, 35].map((i) => things[i]!));
const settings = parseRolloutSettings({
  jobExecutionsRolloutConfig: { maximumPerMinute: 1000, exponentialRate: { baseRatePerMinute: 2, incrementFactor: 2, rateIncreaseCriteria: { numberOfSucceededThings: 2 } } },
  abortConfig: { criteriaList: [{ failureType: 'ALL', action: 'CANCEL', thresholdPercentage: 10, minNumberOfExecutedThings: 10 }] },
  timeoutConfig: { inProgressTimeoutInMinutes: 10 },
});

describe('a roll-out to 40 devices', () => {
  let dir: string;
  let iot: IotCore;
  let s3: LocalS3;
  let admin: S3Client;
  let now = Date.UTC(2026, 11, 6, 7, 0, 0);
  const agents = new Map<string, Agent>();
  const notices: { subject: string; message: string }[] = [];
  const notifiedThings = new Set<string>();
  let sequencer = 0;

  async function startFleet(failing: ReadonlySet<string>): Promise<void> {
    await Promise.all([...agents.values()].map((a) => a.close()));
    agents.clear();
    for (const thing of things) {
      const cert = iot.issueThing(thing);
      const agent = await startAgentWith(thing, cert, failing.has(thing));
      agents.set(thing, agent);
    }
    await waitFor(() => [...agents.values()].every((a) => a.online), 'every agent online', 30_000);
  }

  async function startAgentWith(thing: string, cert: { certPath: string; keyPath: string }, failing: boolean): Promise<Agent> {
    return startAgent({
      endpoint: iot.mqtt.host,
      port: iot.mqtt.port,
      cert: cert.certPath,
      key: cert.keyPath,
      caFile: iot.ca.certPath,
      thingName: thing,
      credentialEndpoint: iot.credentialsProvider.endpoint,
      s3Endpoint: s3.endpoint,
      region: s3.region,
      dest: join(dir, 'devices', thing),
      jobs: true,
      jobRetry: { initialMs: 50, maxMs: 200, attempts: 3 },
      ...(failing ? { maxSize: 1 } : {}),
    });
  }

  /** Upload and turn the upload into a job as the Lambda does; returns the job id. */
  async function uploadAsJob(key: string, body: string): Promise<string> {
    const put = await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    const outcome = await createFileJob(
      admin,
      inProcessJobCreator(iot),
      { prefix: 'releases/', targets: things, settings, partSizeBytes: 8 * 1024 * 1024, concurrency: 4 },
      { kind: 'created', eventName: 'ObjectCreated:Put', bucket: BUCKET, key, sequencer: (++sequencer).toString(16).padStart(16, '0'), eventTime: new Date(now).toISOString(), ...(put.VersionId ? { versionId: put.VersionId } : {}) },
    );
    if (outcome.status !== 'created') throw new Error(`no job: ${JSON.stringify(outcome)}`);
    return outcome.jobId;
  }

  /** Step the roll-out minute by minute, each time once every notified device has finished. */
  async function runRollout(jobId: string): Promise<void> {
    for (let minute = 0; minute < 20; minute++) {
      await waitFor(() => {
        const job = iot.jobs.describeJob(jobId)!;
        return job.status !== 'IN_PROGRESS' || job.counts.QUEUED + job.counts.IN_PROGRESS === 0;
      }, `wave ${minute} of ${jobId} to settle`, 30_000);
      if (iot.jobs.describeJob(jobId)!.status !== 'IN_PROGRESS') return;
      now += MINUTE_MS;
      iot.jobs.tick();
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollout-fleet-'));
    s3 = await startLocalS3({ dir: join(dir, 's3'), buckets: [BUCKET] });
    iot = await startIotCore({
      dir: join(dir, 'iot'),
      things,
      sharedDeviceKey: true,
      devicePolicy: devicePolicy({ shadows: [CLASSIC_SHADOW], jobs: true }),
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      jobsTime: { clock: () => now, schedule: () => () => undefined },
    });
    admin = s3.createClient();
    iot.jobs.onEvent((e) => {
      if (e.type === 'completed' || e.type === 'canceled') notices.push(rolloutNotice(rolloutEndOf(e.job)));
    });
    iot.observe('$aws/things/+/jobs/notify-next', (topic, payload) => {
      if ((JSON.parse(payload.toString()) as { execution?: unknown }).execution) notifiedThings.add(topic.split('/')[2]!);
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...agents.values()].map((a) => a.close()));
    admin?.destroy();
    await iot?.close();
    await s3?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops by the abort rule when 6 devices fail: the rest never get the job, and SNS says why', async () => {
    // Each case counts its own notifications and SNS messages: they may run in either order.
    await startFleet(FAILING);
    notifiedThings.clear();
    const sent = notices.length;
    const jobId = await uploadAsJob('releases/fw-1.bin', 'firmware one');
    await runRollout(jobId);
    const job = iot.jobs.describeJob(jobId)!;
    console.log('abort run waves:', job.waves.map((w) => `minute ${w.minute}: ${w.things.length}`).join(', '), '|', job.comment);

    expect(job.status).toBe('CANCELED');
    expect(job.waves.map((w) => w.things.length)).toEqual([2, 4, 16]);
    expect(job.abort).toMatchObject({ criteria: { thresholdPercentage: 10, minNumberOfExecutedThings: 10 }, notified: 22 });
    expect(job.abort!.failures).toBeGreaterThanOrEqual(3);
    expect(job.counts.notNotified).toBe(18);
    for (const f of job.failures) expect(f).toMatchObject({ status: 'FAILED', statusDetails: { code: 'OBJECT_TOO_LARGE' } });
    // The devices past the third wave: no execution, never notified, nothing installed.
    for (const thing of things.slice(22)) {
      expect(notifiedThings.has(thing)).toBe(false);
      expect(existsSync(join(dir, 'devices', thing, 'fw-1.bin'))).toBe(false);
    }
    expect(existsSync(join(dir, 'devices', things[0]!, 'fw-1.bin'))).toBe(true);

    await waitFor(() => notices.length === sent + 1, 'the SNS message');
    const notice = notices[sent]!;
    expect(notice.subject).toBe(`shadowplug roll-out ${jobId} aborted`);
    expect(notice.message).toContain('abortConfig:');
    // Every notified device is accounted for: finished, canceled before it started, or still running.
    const tally = /(\d+) succeeded, (\d+) failed, (\d+) rejected, (\d+) timed out, (\d+) canceled(?:, (\d+) still in progress \(they may finish\))?, of 40 targets/.exec(notice.message);
    expect(tally).not.toBeNull();
    expect(tally!.slice(1).reduce((sum, n) => sum + Number(n ?? 0), 0)).toBe(22);
    // Which of the third wave's failing devices fail first depends on timing; every one named is one of them.
    const named = [...notice.message.matchAll(/^ {2}(fleet-\d+): FAILED OBJECT_TOO_LARGE/gm)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThanOrEqual(3);
    for (const thing of named) expect(FAILING.has(thing)).toBe(true);
    // One view for both paths: a failed device says so in its shadow too.
    const failed = job.failures[0]!.thingName;
    await waitFor(() => (iot.shadows.get(failed) as { state?: { reported?: { job?: { jobId?: string; code?: string } } } })?.state?.reported?.job?.code === 'OBJECT_TOO_LARGE', 'reported.job of a failed device');
  }, 120_000);

  it('completes in waves that follow the rate when nothing fails', async () => {
    await startFleet(new Set());
    notifiedThings.clear();
    const sent = notices.length;
    const jobId = await uploadAsJob('releases/fw-2.bin', 'firmware two');
    await runRollout(jobId);
    const job = iot.jobs.describeJob(jobId)!;
    console.log('complete run waves:', job.waves.map((w) => `minute ${w.minute}: ${w.things.length}`).join(', '));

    expect(job.status).toBe('COMPLETED');
    // 2 a minute; 2 successes double it for the next minute (4), 4 double it twice (16), then the 18 left.
    expect(job.waves.map((w) => [w.minute, w.things.length])).toEqual([[0, 2], [1, 4], [2, 16], [3, 18]]);
    expect(job.counts.SUCCEEDED).toBe(DEVICES);
    for (const thing of things) expect(existsSync(join(dir, 'devices', thing, 'fw-2.bin'))).toBe(true);
    await waitFor(() => notices.length === sent + 1, 'the SNS message');
    expect(notices[sent]!.subject).toBe(`shadowplug roll-out ${jobId} completed`);
    expect(notices[sent]!.message).toContain(`${DEVICES} succeeded, 0 failed`);
    const reported = iot.shadows.get(things[39]!) as { state: { reported: { s3?: { key?: string }; job?: { status?: string } } } };
    expect(reported.state.reported).toMatchObject({ s3: { key: 'releases/fw-2.bin' }, job: { jobId, status: 'SUCCEEDED' } });
  }, 120_000);
});
