/**
 * Roll-out mode's two functions: upload-to-job against the local S3 with IoT mocked at the SDK
 * boundary (CreateJob's input as AWS receives it; a repeated event finds the job), and
 * rollout-ended fed the job event the Jobs stand-in publishes, naming failed devices and codes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateJobCommand, DescribeJobExecutionCommand, IoTClient, ListJobExecutionsForJobCommand, ResourceAlreadyExistsException } from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { parseRolloutConfig, rolloutFunctionEnvironment } from '../../../core/jobs/config';
import { failedExecutions, iotJobCreator } from '../../../core/jobs/iot-jobs';
import { DEFAULT_ROLLOUT } from '../../../core/jobs/rollout-config';
import { createHandler as uploadToJob } from '../../../lambda/upload-to-job';
import { createHandler as rolloutEnded } from '../../../lambda/rollout-ended';
import { JobsService } from '../../../sandbox/iot/jobs-service';
import { startLocalS3, type LocalS3 } from '../../../sandbox/local-s3';
import { s3EventRecord } from '../../helpers/s3-event-record';

const GROUP = 'arn:aws:iot:eu-west-1:123456789012:thinggroup/lobby';
const THING = 'arn:aws:iot:eu-west-1:123456789012:thing/kiosk';

describe('upload-to-job', () => {
  let dir: string;
  let s3: LocalS3;
  let admin: S3Client;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'upload-to-job-'));
    s3 = await startLocalS3({ dir, buckets: ['shadowplug'] });
    admin = s3.createClient();
  });
  afterAll(async () => {
    admin?.destroy();
    await s3?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates one job per upload under the prefix, for the fleet's things and groups with the configured roll-out, and nothing else", async () => {
    const config = parseRolloutConfig(rolloutFunctionEnvironment({ targets: [THING, GROUP], keyPrefix: 'releases/', settings: DEFAULT_ROLLOUT }));
    expect(() => parseRolloutConfig(rolloutFunctionEnvironment({ targets: ['arn:aws:s3:::shadowplug'], keyPrefix: 'releases/', settings: DEFAULT_ROLLOUT }))).toThrow(/ROLLOUT_TARGETS: "arn:aws:s3:::shadowplug" is not a thing or thing-group ARN/);
    // Mocked here, not when the file is collected: another case mocks and restores IoTClient too.
    const iot = mockClient(IoTClient);
    onTestFinished(() => iot.restore());
    const handler = uploadToJob({ s3: admin, creator: iotJobCreator(new IoTClient({ region: 'eu-west-1' })), config });
    const put = await admin.send(new PutObjectCommand({ Bucket: 'shadowplug', Key: 'releases/fw.bin', Body: 'firmware' }));
    iot.on(CreateJobCommand).resolvesOnce({ jobId: 'x' }).rejects(new ResourceAlreadyExistsException({ message: 'exists', $metadata: {}, resourceId: 'x', resourceArn: 'x' }));
    const event = { Records: [s3EventRecord({ bucket: 'shadowplug', key: 'releases/fw.bin', size: 8, versionId: put.VersionId, eTag: put.ETag?.replace(/"/g, '') }), s3EventRecord({ bucket: 'shadowplug', key: 'elsewhere/fw.bin', size: 8 })] };
    const first = await handler(event as never);
    expect(first).toMatchObject([{ status: 'created', key: 'releases/fw.bin' }, { status: 'skipped', reason: 'outside-prefix' }]);
    const input = iot.commandCalls(CreateJobCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ targets: [THING, GROUP], targetSelection: 'SNAPSHOT', ...DEFAULT_ROLLOUT });
    expect(input.jobId).toMatch(/^sp-[0-9a-f]{24}$/);
    expect(JSON.parse(input.document!)).toMatchObject({ operation: 'shadowplug.file', file: { url: 's3://shadowplug/releases/fw.bin', key: 'releases/fw.bin', size: 8, versionId: put.VersionId } });
    expect(input).not.toHaveProperty('presignedUrlConfig');
    // The same event again (S3 delivers at least once): the job is there, nothing else happens.
    expect((await handler(event as never))[0]).toMatchObject({ status: 'exists', jobId: input.jobId });
  });
});

describe('rollout-ended', () => {
  it("turns the stand-in's job event into one SNS message naming the failed devices", async () => {
    const events: Record<string, unknown>[] = [];
    let now = 0;
    const jobs = new JobsService({ publish: (topic, payload) => topic.startsWith('$aws/events/job/') && events.push(payload), clock: () => now, schedule: () => () => undefined });
    jobs.createJob({ jobId: 'sp-1', targets: ['a', 'b', 'c'], document: '{"operation":"shadowplug.file","file":{}}', settings: { ...DEFAULT_ROLLOUT, abortConfig: { criteriaList: [{ failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 30, minNumberOfExecutedThings: 2 }] } } });
    for (const [thing, status] of [['a', 'SUCCEEDED'], ['b', 'FAILED']] as const) {
      jobs.handleMqtt(`$aws/things/${thing}/jobs/start-next`, Buffer.from('{}'));
      jobs.handleMqtt(`$aws/things/${thing}/jobs/sp-1/update`, Buffer.from(JSON.stringify({ status, statusDetails: status === 'FAILED' ? { code: 'HASH_MISMATCH', message: 'bad bytes' } : {} })));
    }
    now += 1;
    expect(events).toHaveLength(1);
    const published: unknown[] = [];
    const iot = mockClient(IoTClient);
    iot.on(ListJobExecutionsForJobCommand).resolves({ executionSummaries: [] });
    iot.on(ListJobExecutionsForJobCommand, { status: 'FAILED' }).resolves({ executionSummaries: [{ thingArn: 'arn:aws:iot:eu-west-1:123456789012:thing/b' }] });
    iot.on(DescribeJobExecutionCommand).resolves({ execution: { statusDetails: { detailsMap: { code: 'HASH_MISMATCH', message: 'bad bytes' } } } });
    const client = new IoTClient({ region: 'eu-west-1' });
    const handler = rolloutEnded({ failures: (id) => failedExecutions(client, id), publish: async (m) => void published.push(m), topicArn: 'arn:aws:sns:eu-west-1:123456789012:outcomes' });
    const notice = await handler(events[0]);
    iot.restore();
    expect(notice.subject).toBe('shadowplug roll-out sp-1 aborted');
    expect(notice.message).toContain('abortConfig: 1 of 3 notified things (33.3 %) ended FAILED');
    expect(notice.message).toContain('  b: FAILED HASH_MISMATCH (bad bytes)');
    expect(published).toEqual([{ topicArn: 'arn:aws:sns:eu-west-1:123456789012:outcomes', ...notice }]);
    // Executions still running when the job was canceled are counted, not silently dropped.
    const running = await handler({ ...events[0], jobProcessDetails: { numberOfSucceededThings: 1, numberOfInProgressThings: 2 } });
    expect(running.message).toContain('1 succeeded, 0 failed, 0 rejected, 0 timed out, 0 canceled, 2 still in progress (they may finish), of 3 targets');
    await expect(handler({ operation: 'deleted' })).rejects.toMatchObject({ code: 'ROLLOUT_EVENT_INVALID' });
  });
});
