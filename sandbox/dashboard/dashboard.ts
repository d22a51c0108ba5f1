/**
 * The sandbox dashboard: a page on 127.0.0.1 that shows the plug, the devices, uploads, shadows
 * and the narration live, and lets a person switch the plug, press the button and upload a file.
 * It acts only through the doors a user's tools use: the plug's own TP-Link protocol, an MQTT/TLS
 * click as `sandbox click` publishes it, an S3 PUT. One more part of a sandbox, closed first.
 */
import type { EventEmitter } from 'node:events';
import { pipeline, type Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { isObject } from '../../core/util/guards';
import { DetectionCache } from '../../core/tplink/connect';
import type { Credentials } from '../../core/tplink/klap-crypto';
import { clickSandbox, describeClick } from '../click';
import type { SandboxEvent } from '../event-log';
import type { SandboxInfo } from '../sandbox-info';
import type { IotCore } from '../iot-core';
import { SHADOW_PROPERTY } from '../sandbox-config';
import type { Teardown } from '../teardown';
import { hashingStream, sandboxS3Client, validateKey } from '../upload';
import { DEFAULT_EXPIRES_MS, publishRelease } from '../../core/release/publish';
import type { ReleaseSigner } from '../../core/release/signature';
import { signerFromFile } from '../publisher-key';
import { loadAssets } from './assets';
import { DashboardRequestError } from '../errors';
import { DashboardModel } from './model';
import { PlugMonitor, protocolText, tplinkConnector } from './plug-monitor';
import { Broadcaster } from './broadcaster';
import { startDashboardServer, type DashboardActions } from './server';

const NAMED_SHADOW_TOPIC = /^\$aws\/things\/([^/]+)\/shadow\/name\/([^/]+)\/(update\/documents|delete\/accepted)$/;
type ShadowListener = (thing: string, shadowName: string, document: unknown) => void;

/** Named shadows' documents (undefined: deleted) from the shadow service's own messages, in process. */
function watchNamedShadows(iot: IotCore, listener: ShadowListener, logger: Logger): () => void {
  const onMessage = (topic: string, payload: Buffer) => {
    const m = NAMED_SHADOW_TOPIC.exec(topic);
    if (!m) return;
    try {
      const message: unknown = JSON.parse(payload.toString('utf8'));
      listener(m[1]!, m[2]!, m[3] === 'update/documents' && isObject(message) ? message.current : undefined);
    } catch (err) {
      logger.warn('dashboard: unreadable named shadow message', { topic, err });
    }
  };
  const stops = [iot.observe('$aws/things/+/shadow/name/+/update/documents', onMessage), iot.observe('$aws/things/+/shadow/name/+/delete/accepted', onMessage)];
  return () => stops.forEach((stop) => stop());
}

/**
 * Starts the dashboard on 127.0.0.1:`port` and returns its URL, or undefined (with a warning) when
 * it cannot: it is an add-on, and the sandbox runs without it rather than not at all.
 */
export async function startSandboxDashboard(port: number, source: DashboardSource, teardown: Teardown): Promise<string | undefined> {
  try {
    const dashboard = await startDashboard(source, port);
    teardown.add('dashboard', () => dashboard.close());
    return dashboard.url;
  } catch (err) {
    source.logger.warn(`sandbox: running without the dashboard: ${errorMessage(err)}`, { err });
    return undefined;
  }
}

/** What the dashboard reads from the running sandbox. */
export interface DashboardSource {
  info: SandboxInfo;
  /** `event` with a SandboxEvent. */
  events: EventEmitter;
  iot: IotCore;
  logger: Logger;
  /** The TP-Link account the sandbox's KLAP/AES plugs accept. */
  plugCredentials: Credentials;
}

async function startDashboard(source: DashboardSource, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const { info, iot } = source;
  const clock = Date.now;
  const assets = await loadAssets();
  const model = new DashboardModel({
    header: { bucket: info.s3.bucket, buttonSerial: info.button.serial, buttonTopic: info.buttonTopic, agents: info.agents },
    things: info.things.map((t) => t.name),
    plug: { host: info.plug.host, port: info.plug.port, simulated: info.plug.simulated, protocol: '', metered: false },
    plugs: info.plugs ?? [],
    property: SHADOW_PROPERTY,
    clock,
    cwd: process.cwd(),
  });
  // Every device as its shadow says, before the first page can connect.
  for (const t of info.things) model.applyShadow(t.name, iot.shadows.get(t.name));
  const hub = new Broadcaster(model, async (thing) => iot.shadows.get(thing));
  // Each plug's shadow, every version in order (a click's desired, then the hub's answer), sent at once.
  const onPlugShadow: ShadowListener = (thing, shadowName, document) => {
    const plug = model.plugShadows.applyDocument(thing, shadowName, document);
    if (plug) hub.send({ kind: 'plug-shadow', plug });
  };
  const stopPlugShadows = watchNamedShadows(iot, onPlugShadow, source.logger);
  for (const [thing, shadowName] of model.plugShadows.shadows()) onPlugShadow(thing, shadowName, iot.shadows.get(thing, shadowName));
  const first = info.plugs?.[0];
  const monitor = new PlugMonitor({
    host: info.plug.host,
    port: info.plug.port,
    simulated: info.plug.simulated,
    connect: firstPlugConnector(source),
    ...(first?.protocol !== undefined ? { protocol: protocolText({ transport: first.protocol, family: first.family ?? 'iot' }) } : {}),
    onView: (view) => {
      if (model.setPlug(view)) hub.send({ kind: 'plug', plug: view });
    },
    clock,
  });
  const s3 = sandboxS3Client(info);
  let server: Awaited<ReturnType<typeof startDashboardServer>>;
  try {
    const publisher = { s3, signer: signerFromFile(info.signingKey), clock };
    server = await startDashboardServer({ port, assets, actions: dashboardActions(source, model, hub, monitor, publisher) });
  } catch (err) {
    stopPlugShadows();
    s3.destroy();
    throw err;
  }
  const onEvent = (event: SandboxEvent) => {
    hub.apply(event);
    if (event.type === 'plug' || event.type === 'click-done') void monitor.refresh();
  };
  source.events.on('event', onEvent);
  await monitor.start();
  return {
    url: server.url,
    async close() {
      source.events.off('event', onEvent);
      stopPlugShadows();
      hub.close();
      monitor.close();
      await server.close();
      s3.destroy();
    },
  };
}

/**
 * The first plug in what it speaks, with the sandbox's TP-Link account. When the sandbox says what
 * it runs (protocol, family) that is used as is: no probing of a plug other clients are switching.
 */
function firstPlugConnector(source: DashboardSource): ReturnType<typeof tplinkConnector> {
  const { plug } = source.info;
  const first = source.info.plugs?.[0];
  return tplinkConnector(
    { host: plug.host, port: plug.port },
    {
      connectTimeoutMs: 1_000,
      requestTimeoutMs: 2_000,
      // Its own memory of a real plug's kind: nothing shared with other clients in this process.
      detection: new DetectionCache(),
      credentials: source.plugCredentials,
      ...(first?.protocol !== undefined ? { protocol: first.protocol, ...(first.family !== undefined ? { family: first.family } : {}) } : {}),
    },
  );
}

/** What the page's requests do: read the model and shadows, or act through the sandbox's own doors. */
function dashboardActions(source: DashboardSource, model: DashboardModel, hub: Broadcaster, monitor: PlugMonitor, publisher: Publisher): DashboardActions {
  const { info } = source;
  return {
    snapshot: () => model.snapshot(),
    subscribe: (listener) => hub.subscribe(listener),
    async shadow(thing) {
      if (!info.things.some((t) => t.name === thing)) throw new DashboardRequestError(404, `no thing named ${JSON.stringify(thing)} in this sandbox`);
      const document = source.iot.shadows.get(thing);
      const version = document?.version;
      return { thing, ...(typeof version === 'number' ? { version } : {}), ...(document ? { document } : {}) };
    },
    toggle: (child) => monitor.toggle(child),
    async click(type) {
      // The sandbox's own account, password included (this process has it; sandbox.json does not).
      const result = await clickSandbox({ clickType: type, info, watchMs: 0, credentials: source.plugCredentials });
      return { summary: describeClick(result) };
    },
    upload: (request) => publishObject(publisher, info, request),
  };
}

/** How the page's uploads are published: the sandbox's bucket and publisher key. */
interface Publisher {
  s3: S3Client;
  signer: ReleaseSigner;
  clock: () => number;
}

/**
 * The page's file published as a signed release (as `sandbox upload` does), hashed on the way:
 * `name` for every device, `things/<thing>/name` for one.
 */
async function publishObject(
  { s3, signer, clock }: Publisher,
  info: SandboxInfo,
  request: { name: string; thing?: string; size: number; body: Readable },
): Promise<{ key: string; url: string; size: number; sha256: string; release: number }> {
  const { name, thing, size } = request;
  if (name === '' || name.includes('/') || name === '.' || name === '..') {
    throw new DashboardRequestError(400, `name must be a file name without "/" (got ${JSON.stringify(name)})`);
  }
  if (thing !== undefined && !info.things.some((t) => t.name === thing)) throw new DashboardRequestError(400, `no thing named ${JSON.stringify(thing)} in this sandbox`);
  let key: string;
  try {
    key = validateKey(thing === undefined ? name : `things/${thing}/${name}`);
  } catch (err) {
    throw new DashboardRequestError(400, errorMessage(err));
  }
  const { body, sha256 } = hashingStream();
  // A page closed mid-upload fails the PUT now (not at the S3 client's idle timeout), and the
  // error stays with the streams: pipeline listens on both.
  pipeline(request.body, body, () => undefined);
  const url = `s3://${info.s3.bucket}/${key}`;
  try {
    const published = await publishRelease(s3, { bucket: info.s3.bucket, key, body, size, signer, expires: new Date(clock() + DEFAULT_EXPIRES_MS) }, sha256);
    return { key, url, size, sha256: published.manifest.sha256, release: published.manifest.release };
  } catch (err) {
    throw new DashboardRequestError(502, `storing ${url} at ${info.s3.endpoint} failed: ${errorMessage(err)}`, { retryable: true, cause: err });
  }
}
