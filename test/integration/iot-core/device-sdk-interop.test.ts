/**
 * Interop: AWS's own device library (aws-iot-device-sdk-v2, native CRT MQTT client) connects to
 * the stand-in over mutual TLS and runs the shadow flow a device runs — subscribe, get (404),
 * report, receive a delta after a cloud-side update over HTTP, and report back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iot as awsIot, iotshadow, mqtt as awsMqtt } from 'aws-iot-device-sdk-v2';
import { UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { startTestIotCore, type TestIotCore } from '../../helpers/iot-core-clients';

/** Turn the SDK's callback-style subscription into a queue the test can await. */
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

describe('interop with aws-iot-device-sdk-v2', () => {
  let iot: TestIotCore;
  let connection: awsMqtt.MqttClientConnection;
  const thingName = 'crt-device';

  beforeAll(async () => {
    iot = await startTestIotCore({ things: [thingName] });
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

  it('runs the device shadow flow through IotShadowClient', async () => {
    const shadow = new iotshadow.IotShadowClient(connection);
    const qos = awsMqtt.QoS.AtLeastOnce;
    const getRejected = queue<iotshadow.model.ErrorResponse>();
    const getAccepted = queue<iotshadow.model.GetShadowResponse>();
    const updateAccepted = queue<iotshadow.model.UpdateShadowResponse>();
    const deltas = queue<iotshadow.model.ShadowDeltaUpdatedEvent>();
    const documents = queue<iotshadow.model.ShadowUpdatedEvent>();
    const fail = (err?: unknown) => {
      if (err) throw err;
    };
    await shadow.subscribeToGetShadowRejected({ thingName }, qos, (e, r) => (fail(e), getRejected.push(r!)));
    await shadow.subscribeToGetShadowAccepted({ thingName }, qos, (e, r) => (fail(e), getAccepted.push(r!)));
    await shadow.subscribeToUpdateShadowAccepted({ thingName }, qos, (e, r) => (fail(e), updateAccepted.push(r!)));
    await shadow.subscribeToShadowDeltaUpdatedEvents({ thingName }, qos, (e, r) => (fail(e), deltas.push(r!)));
    await shadow.subscribeToShadowUpdatedEvents({ thingName }, qos, (e, r) => (fail(e), documents.push(r!)));

    await shadow.publishGetShadow({ thingName }, qos);
    expect(await getRejected.next()).toMatchObject({ code: 404, message: `No shadow exists with name: ${thingName}` });

    await shadow.publishUpdateShadow({ thingName, state: { reported: { firmware: '1.0' } }, clientToken: 'crt-1' }, qos);
    const accepted = await updateAccepted.next();
    expect(accepted).toMatchObject({ version: 1, clientToken: 'crt-1', state: { reported: { firmware: '1.0' } } });
    expect(typeof accepted.timestamp).toBe('number'); // epoch seconds; this client passes the JSON through
    expect(await documents.next()).toMatchObject({ current: { version: 1, state: { reported: { firmware: '1.0' } } } });

    // The cloud side (the object Lambda) writes desired through the data-plane API.
    const sdk = iot.createDataPlaneClient();
    try {
      await sdk.send(
        new UpdateThingShadowCommand({ thingName, payload: new TextEncoder().encode(JSON.stringify({ state: { desired: { firmware: '2.0' } } })) }),
      );
    } finally {
      sdk.destroy();
    }
    const delta = await deltas.next();
    expect(delta).toMatchObject({ version: 2, state: { firmware: '2.0' } });
    await updateAccepted.next();

    await shadow.publishUpdateShadow({ thingName, state: { reported: { firmware: '2.0' } }, version: 2 }, qos);
    expect(await updateAccepted.next()).toMatchObject({ version: 3 });

    await shadow.publishGetShadow({ thingName }, qos);
    const doc = await getAccepted.next();
    expect(doc).toMatchObject({ version: 3, state: { desired: { firmware: '2.0' }, reported: { firmware: '2.0' } } });
    expect(doc.state?.delta).toBeUndefined();
  });
});
