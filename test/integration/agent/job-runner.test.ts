/**
 * The agent in roll-out mode, one device: a hook that refuses fails the execution with
 * HOOK_FAILED; a job cut off by a restart resumes and succeeds once; a job whose outcome the
 * journal already holds is reported again, never run again, and so is one whose agent process was
 * killed while its hook ran (HOOK_INTERRUPTED, the hook never started twice); S3's 403 mid-job makes the agent
 * fetch new credentials from the IoT credentials provider, as on the shadow path; an unsigned file
 * on an agent with trusted keys fails with RELEASE_UNSIGNED, in the execution and in the shadow,
 * and a published (signed) release's job carries its manifest and signature and installs.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent, type AgentOptions } from '../../../agent/agent';
import { CLASSIC_SHADOW, devicePolicy } from '../../../core/iot-policy/device-policy';
import { createFileJob, type CreateJobRequest } from '../../../core/jobs/file-job';
import { parseRolloutSettings } from '../../../core/jobs/rollout-config';
import { startIotCore, type IotCore } from '../../../sandbox/iot-core';
import { startLocalS3, type LocalS3 } from '../../../sandbox/local-s3';
import { inProcessJobCreator } from '../../../sandbox/wire-rollout';
import { waitFor } from '../../helpers/agent-harness';
import { runCli } from '../../helpers/sandbox-harness';
import { makeKey } from '../../helpers/release-keys';
import { companionKey } from '../../../core/release/companion';
import { publishRelease } from '../../../core/release/publish';
import { pemSigner } from '../../../core/release/signature';

const BUCKET = 'shadowplug';
const thing = 'job-device';
const settings = parseRolloutSettings({ jobExecutionsRolloutConfig: { maximumPerMinute: 10 }, abortConfig: { criteriaList: [] } });

describe('the job runner', () => {
  let dir: string;
  let iot: IotCore;
  let s3: LocalS3;
  let admin: S3Client;
  let agent: Agent | undefined;
  let n = 0;
  /** How many credentials the provider hands out revoked before valid ones (S3 answers 403 to those). */
  let revokedIssues = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'job-runner-'));
    s3 = await startLocalS3({ dir: join(dir, 's3'), buckets: [BUCKET] });
    iot = await startIotCore({ dir: join(dir, 'iot'), things: [thing], devicePolicy: devicePolicy({ shadows: [CLASSIC_SHADOW], jobs: true }), credentials: providedCredentials() });
    admin = s3.createClient();
  }, 30_000);
  afterEach(async () => {
    await agent?.close();
    agent = undefined;
  });
  afterAll(async () => {
    admin?.destroy();
    await iot?.close();
    await s3?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Read by the provider once per issue: accessKeyId first, then secretAccessKey. */
  function providedCredentials() {
    let current = { accessKeyId: '', secretAccessKey: '' };
    return {
      get accessKeyId() {
        current = revokedIssues-- > 0 ? { accessKeyId: 'REVOKED', secretAccessKey: 'REVOKED' } : { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
        return current.accessKeyId;
      },
      get secretAccessKey() {
        return current.secretAccessKey;
      },
    };
  }

  const cert = () => iot.issueThing(thing);
  const options = (over: Partial<AgentOptions> = {}): AgentOptions => ({
    endpoint: iot.mqtt.host,
    port: iot.mqtt.port,
    cert: cert().certPath,
    key: cert().keyPath,
    caFile: iot.ca.certPath,
    thingName: thing,
    credentialEndpoint: iot.credentialsProvider.endpoint,
    s3Endpoint: s3.endpoint,
    region: s3.region,
    dest: join(dir, 'dest'),
    stateDir: join(dir, 'state'),
    jobs: true,
    jobRetry: { initialMs: 20, maxMs: 50, attempts: 1000 },
    ...over,
  });

  async function job(key: string): Promise<string> {
    const put = await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: `bytes of ${key}` }));
    const outcome = await createFileJob(admin, inProcessJobCreator(iot), { prefix: '', targets: [thing], settings, partSizeBytes: 1 << 20, concurrency: 2 }, { kind: 'created', eventName: 'ObjectCreated:Put', bucket: BUCKET, key, sequencer: String(++n).padStart(8, '0'), eventTime: new Date().toISOString(), ...(put.VersionId ? { versionId: put.VersionId } : {}) });
    if (outcome.status !== 'created') throw new Error(JSON.stringify(outcome));
    return outcome.jobId;
  }
  const status = (jobId: string) => iot.jobs.describeJob(jobId)!;
  const reportedJob = () => (iot.shadows.get(thing) as { state?: { reported?: { job?: Record<string, unknown> } } } | undefined)?.state?.reported?.job;

  it('fails the execution with HOOK_FAILED when the on-update hook refuses, the file staying installed', async () => {
    agent = await startAgent(options({ onUpdate: 'exit 3' }));
    const jobId = await job('refused.bin');
    await waitFor(() => status(jobId).status === 'COMPLETED', 'the job to end');
    expect(status(jobId).failures).toEqual([{ thingName: thing, status: 'FAILED', statusDetails: expect.objectContaining({ code: 'HOOK_FAILED' }) }]);
    expect(existsSync(join(dir, 'dest', 'refused.bin'))).toBe(true);
  });

  it('resumes a job cut off by a restart and runs its hook once', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const deadPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const counter = join(dir, 'hook-runs');
    agent = await startAgent(options({ s3Endpoint: `http://127.0.0.1:${deadPort}` }));
    const jobId = await job('resumed.bin');
    await waitFor(() => status(jobId).counts.IN_PROGRESS === 1, 'the job to start');
    await agent.close();
    agent = await startAgent(options({ onUpdate: `echo run >> ${counter}` }));
    await waitFor(() => status(jobId).status === 'COMPLETED', 'the job to end');
    expect(status(jobId).counts.SUCCEEDED).toBe(1);
    expect(readFileSync(join(dir, 'dest', 'resumed.bin'), 'utf8')).toBe('bytes of resumed.bin');
    await waitFor(() => existsSync(counter), 'the hook');
    expect(readFileSync(counter, 'utf8')).toBe('run\n');
  });

  it('fails a job whose file is unsigned with RELEASE_UNSIGNED when the agent has trusted keys, in the execution and in the shadow, installing nothing', async () => {
    const key = makeKey(dir, 'jobs-publisher');
    agent = await startAgent(options({ trustedKey: [key.publicPath] }));
    const jobId = await job('unsigned-job.bin');
    await waitFor(() => status(jobId).status === 'COMPLETED', 'the job to end');
    expect(status(jobId).failures).toEqual([{ thingName: thing, status: 'FAILED', statusDetails: expect.objectContaining({ code: 'RELEASE_UNSIGNED' }) }]);
    await waitFor(() => reportedJob()?.jobId === jobId, 'reported.job');
    expect(reportedJob()).toMatchObject({ jobId, status: 'FAILED', code: 'RELEASE_UNSIGNED' });
    expect(existsSync(join(dir, 'dest', 'unsigned-job.bin'))).toBe(false);
  });

  it('installs a signed release from its job: the document carries the manifest and signature as desired.s3 would', async () => {
    const key = makeKey(dir, 'jobs-signer');
    agent = await startAgent(options({ trustedKey: [key.publicPath] }));
    const published = await publishRelease(admin, { bucket: BUCKET, key: 'signed-job.bin', body: Buffer.from('signed bytes'), signer: pemSigner(key.privatePem), expires: new Date(Date.now() + 86_400_000) }, createHash('sha256').update('signed bytes').digest('hex'));
    // The companion's event makes the job; the object's own event, seeing the release, leaves it to that one.
    const documents: string[] = [];
    const creator = inProcessJobCreator(iot);
    const recording = { createJob: (request: CreateJobRequest) => (documents.push(request.document), creator.createJob(request)) };
    const own = await createFileJob(admin, recording, { prefix: '', targets: [thing], settings, partSizeBytes: 1 << 20, concurrency: 2 }, { kind: 'created', eventName: 'ObjectCreated:Put', bucket: BUCKET, key: 'signed-job.bin', sequencer: String(++n).padStart(8, '0'), eventTime: new Date().toISOString(), versionId: published.versionId });
    expect(own).toEqual({ status: 'skipped', key: 'signed-job.bin', reason: 'release-pending' });
    expect(documents).toEqual([]);
    const outcome = await createFileJob(admin, recording, { prefix: '', targets: [thing], settings, partSizeBytes: 1 << 20, concurrency: 2 }, { kind: 'created', eventName: 'ObjectCreated:Put', bucket: BUCKET, key: companionKey('signed-job.bin'), sequencer: String(++n).padStart(8, '0'), eventTime: new Date().toISOString() });
    if (outcome.status !== 'created') throw new Error(JSON.stringify(outcome));
    const document = JSON.parse(documents[0]!) as { file: Record<string, unknown> };
    expect(document.file).toMatchObject({ key: 'signed-job.bin', manifest: published.manifest, signature: published.signature });
    await waitFor(() => status(outcome.jobId).status === 'COMPLETED', 'the job to end');
    expect(status(outcome.jobId).counts.SUCCEEDED).toBe(1);
    expect(readFileSync(join(dir, 'dest', 'signed-job.bin'), 'utf8')).toBe('signed bytes');
  });

  it('fetches new credentials when S3 answers 403 mid-job, and the retry succeeds (as on the shadow path)', async () => {
    revokedIssues = 1;
    // Two attempts: the second must not reuse the refused credentials.
    agent = await startAgent(options({ jobRetry: { initialMs: 20, maxMs: 50, attempts: 2 } }));
    await agent.credentialsWarmed();
    const fetchesAtStart = agent.credentialFetches;
    const jobId = await job('after-403.bin');
    await waitFor(() => status(jobId).status === 'COMPLETED', 'the job to end');
    expect(status(jobId).failures).toEqual([]);
    expect(status(jobId).counts.SUCCEEDED).toBe(1);
    expect(agent.credentialFetches).toBe(fetchesAtStart + 1);
    expect(readFileSync(join(dir, 'dest', 'after-403.bin'), 'utf8')).toBe('bytes of after-403.bin');
  });

  it('fetches new credentials when S3 says the session token expired mid-job (400 ExpiredToken), and the retry succeeds', async () => {
    // In front of the local S3: requests signed with the first token issued get S3's ExpiredToken answer.
    const target = new URL(s3.endpoint);
    let expired: string | undefined;
    const proxy = createHttpServer((req, res) => {
      const token = String(req.headers['x-amz-security-token'] ?? '');
      expired ??= token;
      if (token === expired) {
        res.writeHead(400, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>');
        return;
      }
      const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    try {
      agent = await startAgent(options({ s3Endpoint: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`, jobRetry: { initialMs: 20, maxMs: 50, attempts: 2 } }));
      await agent.credentialsWarmed();
      const fetchesAtStart = agent.credentialFetches;
      const jobId = await job('after-expiry.bin');
      await waitFor(() => status(jobId).status === 'COMPLETED', 'the job to end');
      expect(status(jobId).failures).toEqual([]);
      expect(agent.credentialFetches).toBe(fetchesAtStart + 1);
      expect(readFileSync(join(dir, 'dest', 'after-expiry.bin'), 'utf8')).toBe('bytes of after-expiry.bin');
    } finally {
      await agent?.close();
      agent = undefined;
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  it('reports HOOK_INTERRUPTED after the agent process was killed while the hook ran, and never runs the hook again', async () => {
    const counter = join(dir, 'hook-interrupted-runs');
    const release = join(dir, 'hook-interrupted-release');
    // The hook says it started, then waits until the test lets it go (after the agent is dead).
    const hook = `echo run >> ${counter}; while [ ! -e ${release} ]; do sleep 0.05; done`;
    const o = options();
    const killed = runCli(['agent', '--endpoint', `${o.endpoint}:${o.port}`, '--cert', o.cert, '--key', o.key, '--ca-file', o.caFile!, '--thing-name', thing, '--credential-endpoint', o.credentialEndpoint!, '--s3-endpoint', o.s3Endpoint!, '--region', o.region!, '--dest', o.dest, '--state-dir', o.stateDir!, '--jobs', '--on-update', hook]);
    try {
      const jobId = await job('interrupted.bin');
      await waitFor(() => existsSync(counter), 'the hook to start', 30_000);
      killed.child.kill('SIGKILL');
      await killed.exited;
      expect(status(jobId).counts.IN_PROGRESS).toBe(1);
      agent = await startAgent(options({ onUpdate: `echo run >> ${counter}` }));
      await waitFor(() => status(jobId).status === 'COMPLETED', 'the job to end');
      expect(status(jobId).failures).toEqual([{ thingName: thing, status: 'FAILED', statusDetails: expect.objectContaining({ code: 'HOOK_INTERRUPTED' }) }]);
      await waitFor(() => reportedJob()?.jobId === jobId, 'reported.job');
      expect(reportedJob()).toMatchObject({ status: 'FAILED', code: 'HOOK_INTERRUPTED' });
      expect(readFileSync(counter, 'utf8')).toBe('run\n');
      expect(readFileSync(join(dir, 'dest', 'interrupted.bin'), 'utf8')).toBe('bytes of interrupted.bin');
    } finally {
      writeFileSync(release, '');
      if (killed.child.exitCode === null && killed.child.signalCode === null) killed.child.kill('SIGKILL');
    }
  }, 60_000);

  it('reports a job the journal says is done, without running it again', async () => {
    const jobId = await job('journaled.bin');
    // As if the agent had finished the job and stopped before IoT heard of it.
    mkdirSync(join(dir, 'state'), { recursive: true });
    const file = join(dir, 'state', 'jobs.json');
    const journal = (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { format: 1, outcomes: [] }) as { outcomes: unknown[] };
    journal.outcomes.push({ jobId, outcome: { status: 'SUCCEEDED', statusDetails: { hash: 'journaled' } } });
    writeFileSync(file, JSON.stringify(journal));
    agent = await startAgent(options());
    await waitFor(() => status(jobId).status === 'COMPLETED', 'the job to end');
    expect(status(jobId).counts.SUCCEEDED).toBe(1);
    expect(existsSync(join(dir, 'dest', 'journaled.bin'))).toBe(false);
  });
});
