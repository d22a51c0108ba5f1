/**
 * Pressing a button without a button (the `click` CLI): the classic payload on `iotbutton/<serial>`
 * over MQTT with mutual TLS, QoS 1, resolved once the broker has acknowledged it (PUBACK).
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import { ShadowplugError } from '../errors';
import { buttonTopic, classicButtonPayload, type ClickType } from './click';

export interface PublishClickOptions {
  /** The MQTT/TLS endpoint (AWS IoT: `<prefix>-ats.iot.<region>.amazonaws.com`, 8883). */
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
  /** Default MQTT.js `connect`. */
  connect?: (options: IClientOptions) => MqttClient;
}

export interface PublishedClick {
  topic: string;
  payload: ReturnType<typeof classicButtonPayload>;
  clientId: string;
  elapsedMs: number;
}

export async function publishClick(o: PublishClickOptions): Promise<PublishedClick> {
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
      const fail = (problem: string, cause?: unknown) => {
        clearTimeout(timer);
        reject(new ShadowplugError(`publish to ${o.host}:${o.port}: ${problem}`, { code: 'BUTTON_PUBLISH_FAILED', retryable: true, cause }));
      };
      const timer = setTimeout(() => fail(connected ? `no PUBACK within ${timeoutMs} ms` : `no connection within ${timeoutMs} ms`), timeoutMs);
      client.once('error', (err) => fail(`connection failed: ${err.message}`, err));
      // The broker closing on us before PUBACK: refused connection, or a publish the policy denies.
      client.once('close', () =>
        fail(
          connected
            ? `the broker closed the connection before acknowledging the publish on ${topic} (not allowed for client id ${clientId}?)`
            : `the broker closed the connection before it was established (certificate or client id ${clientId} refused?)`,
        ),
      );
      client.once('connect', () => {
        connected = true;
        client.publish(topic, JSON.stringify(payload), { qos: 1 }, (err) => {
          if (err) return fail(`publish on ${topic} failed: ${err.message}`, err);
          clearTimeout(timer);
          resolve();
        });
      });
    });
  } finally {
    client.removeAllListeners('close');
    client.removeAllListeners('error');
    client.on('error', () => {}); // late socket errors while closing
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }
  return { topic, payload, clientId, elapsedMs: Date.now() - started };
}
