/**
 * The Jobs stand-in against AWS's own device library: aws-iot-device-sdk-v2's IotJobsClient (the
 * native CRT MQTT client, over mutual TLS, under the device policy with jobs) is notified of a
 * job, starts it, reports progress and success, and is refused a second update; the job then
 * completes and its `$aws/events/job/<id>/completed` event goes out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iot as awsIot, iotjobs, mqtt as awsMqtt } from 'aws-iot-device-sdk-v2';
import { CLASSIC_SHADOW, devicePolicy } from '../../../core/iot-policy/device-policy';
import { serializeJobDocument } from '../../../core/jobs/job-document';
import { startTestIotCore, type TestIotCore } from '../../helpers/iot-core-clients';

function queue<T>() {
  const items: T[] = [];
  const waiters: ((v: T) => void)[] = [];
  return {
    push(v: T) {
      const w = waiters.shift();
      if (w) w(v);
      else items.push(v);
    },
    next(timeoutMs = 5_000): Promise<T> {
      if (items.length) return Promise.resolve(items.shift()!);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message in time')), timeoutMs);
        waiters.push((v) => {
          clearTimeout(timer);
          resolve(v);
        });
      });
    },
  };
}

describe('the Jobs stand-in with aws-iot-device-sdk-v2', () => {
  let iot: TestIotCore;
  let connection: awsMqtt.MqttClientConnection;
  const thingName = 'crt-jobs-device';
  const file = { url: 's3://bucket-1/fw.bin', hash: 'b'.repeat(64), size: 4, bucket: 'bucket-1', key: 'fw.bin' };

  beforeAll(async () => {
    iot = await startTestIotCore({ things: [thingName], devicePolicy: devicePolicy({ shadows: [CLASSIC_SHADOW], jobs: true }) });
    const cert = iot.issueThing(thingName);
    const config = awsIot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(cert.certPath, cert.keyPath)
      .with_certificate_authority_from_path(undefined, iot.ca.certPath)
      .with_client_id(thingName)
      .with_endpoint(iot.mqtt.host)
      .with_port(iot.mqtt.port)
      .with_clean_session(true)
      .with_ping_timeout_ms(3_000)
      .build();
    connection = new awsMqtt.MqttClient().new_connection(config);
    await connection.connect();
  });

  afterAll(async () => {
    await connection?.disconnect().catch(() => undefined);
    await iot?.close();
  });

  it('drives a job from notify-next to SUCCEEDED through IotJobsClient', async () => {
    const jobs = new iotjobs.IotJobsClient(connection);
    const qos = awsMqtt.QoS.AtLeastOnce;
    const jobId = 'sp-sdk-1';
    const fail = (err?: unknown) => {
      if (err) throw err;
    };
    const nexts = queue<iotjobs.model.NextJobExecutionChangedEvent>();
    const started = queue<iotjobs.model.StartNextJobExecutionResponse>();
    const updated = queue<iotjobs.model.UpdateJobExecutionResponse>();
    const refused = queue<iotjobs.model.RejectedErrorResponse>();
    const pending = queue<iotjobs.model.GetPendingJobExecutionsResponse>();
    await jobs.subscribeToNextJobExecutionChangedEvents({ thingName }, qos, (e, r) => (fail(e), nexts.push(r!)));
    await jobs.subscribeToStartNextPendingJobExecutionAccepted({ thingName }, qos, (e, r) => (fail(e), started.push(r!)));
    await jobs.subscribeToUpdateJobExecutionAccepted({ thingName, jobId }, qos, (e, r) => (fail(e), updated.push(r!)));
    await jobs.subscribeToUpdateJobExecutionRejected({ thingName, jobId }, qos, (e, r) => (fail(e), refused.push(r!)));
    await jobs.subscribeToGetPendingJobExecutionsAccepted({ thingName }, qos, (e, r) => (fail(e), pending.push(r!)));
    const events: string[] = [];
    iot.observe('$aws/events/job/+/+', (topic) => void events.push(topic));

    iot.jobs.createJob({ jobId, targets: [thingName], document: serializeJobDocument(file) });
    const notified = await nexts.next();
    expect(notified.execution).toMatchObject({ jobId, thingName, status: 'QUEUED', jobDocument: { operation: 'shadowplug.file', file } });

    await jobs.publishGetPendingJobExecutions({ thingName, clientToken: 'p1' }, qos);
    expect(await pending.next()).toMatchObject({ clientToken: 'p1', queuedJobs: [{ jobId }], inProgressJobs: [] });

    await jobs.publishStartNextPendingJobExecution({ thingName, clientToken: 's1', statusDetails: { step: 'download' } }, qos);
    const start = await started.next();
    expect(start).toMatchObject({ clientToken: 's1', execution: { jobId, status: 'IN_PROGRESS', statusDetails: { step: 'download' }, jobDocument: { file } } });

    await jobs.publishUpdateJobExecution({ thingName, jobId, status: iotjobs.model.JobStatus.IN_PROGRESS, statusDetails: { progress: '50' }, clientToken: 'u1' }, qos);
    expect(await updated.next()).toMatchObject({ clientToken: 'u1', executionState: { status: 'IN_PROGRESS', statusDetails: { progress: '50' } } });

    await jobs.publishUpdateJobExecution({ thingName, jobId, status: iotjobs.model.JobStatus.SUCCEEDED, clientToken: 'u2' }, qos);
    expect(await updated.next()).toMatchObject({ clientToken: 'u2', executionState: { status: 'SUCCEEDED' } });
    expect((await nexts.next()).execution).toBeUndefined();

    await jobs.publishUpdateJobExecution({ thingName, jobId, status: iotjobs.model.JobStatus.FAILED, clientToken: 'u3' }, qos);
    expect(await refused.next()).toMatchObject({ clientToken: 'u3', code: 'InvalidStateTransition', executionState: { status: 'SUCCEEDED' } });

    expect(iot.jobs.describeJob(jobId)).toMatchObject({ status: 'COMPLETED', counts: { SUCCEEDED: 1 } });
    await iot.messagesDelivered();
    expect(events).toEqual([`$aws/events/job/${jobId}/completed`]);
  });
});
