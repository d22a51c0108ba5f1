/**
 * Pressing a button without a button: publishes the classic payload on `iotbutton/<serial>` over
 * MQTT with mutual TLS (what a real IoT button does), QoS 1, and resolves once the broker has
 * acknowledged it (PUBACK). Used by the `click` CLI against the sandbox or AWS IoT Core.
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import type { ClickType } from './click';
import { ShadowplugError } from '../errors';
import { buttonTopic, classicButtonPayload } from './synthesise';

export interface PublishClickOptions {
  /** `host:port` of the MQTT/TLS endpoint (AWS IoT: `<prefix>-ats.iot.<region>.amazonaws.com:8883`). */
  host: string;
  port: number;
  cert: string | Buffer;
  key: string | Buffer;
  ca: string | Buffer;
  /** Default `iotbutton_<serial>`, as IoT button identities are named. */
  clientId?: string;
  serial: string;
  clickType: ClickType;
  batteryMv?: number;
  /** Whole operation: connect, publish, acknowledgement (default 10 s). */
  timeoutMs?: number;
  /** Injected for tests; default MQTT.js `connect`. */
  connect?: (options: IClientOptions) => MqttClient;
}

export interface PublishedClick {
  topic: string;
  payload: ReturnType<typeof classicButtonPayload>;
  clientId: string;
  elapsedMs: number;
}

export async function publishClick(o: PublishClickOptions): Promise<PublishedClick> {
  const endpoint = `${o.host}:${o.port}`;
  const clientId = o.clientId ?? `iotbutton_${o.serial}`;
  const topic = buttonTopic(o.serial);
  const payload = classicButtonPayload(o);
  const timeoutMs = o.timeoutMs ?? 10_000;
  const started = Date.now();
  const connect = o.connect ?? (await import('mqtt')).connect;

  const client = connect({
    host: o.host,
    port: o.port,
    protocol: 'mqtts',
    protocolVersion: 4,
    clientId,
    cert: o.cert,
    key: o.key,
    ca: o.ca,
    rejectUnauthorized: true,
    reconnectPeriod: 0,
    // Our own timer below fires first, with a message that names the limit.
    connectTimeout: timeoutMs + 1_000,
    clean: true,
  });

  try {
    await new Promise<void>((resolve, reject) => {
      let connected = false;
      const timer = setTimeout(
        () => reject(publishError(endpoint, connected ? `no PUBACK within ${timeoutMs} ms` : `no connection within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const fail = (err: ShadowplugError) => {
        clearTimeout(timer);
        reject(err);
      };
      client.once('error', (err) => fail(publishError(endpoint, `connection failed: ${err.message}`, err)));
      // The broker closing on us before PUBACK: refused connection, or a publish the policy denies.
      client.once('close', () =>
        fail(
          publishError(endpoint, connected
              ? `the broker closed the connection before acknowledging the publish on ${topic} (not allowed for client id ${clientId}?)`
              : `the broker closed the connection before it was established (certificate or client id ${clientId} refused?)`,
          ),
        ),
      );
      client.once('connect', () => {
        connected = true;
        client.publish(topic, JSON.stringify(payload), { qos: 1 }, (err) => {
          if (err) return fail(publishError(endpoint, `publish on ${topic} failed: ${err.message}`, err));
          clearTimeout(timer);
          resolve();
        });
      });
    });
  } finally {
    client.removeAllListeners('close');
    client.removeAllListeners('error');
    // Swallow late socket errors while closing.
    client.on('error', () => {});
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }
  return { topic, payload, clientId, elapsedMs: Date.now() - started };
}

/** The click could not be published over MQTT (connection, TLS, refusal, no PUBACK). */
function publishError(endpoint: string, problem: string, cause?: unknown): ShadowplugError {
  return new ShadowplugError(`publish to ${endpoint}: ${problem}`, { code: 'BUTTON_PUBLISH_FAILED', retryable: true, cause });
}
