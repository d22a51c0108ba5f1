/**
 * End-to-end rig for the device agent: the IoT Core stand-in (MQTT over mutual TLS, shadows,
 * credentials provider), the local S3 server behind a fault-injecting TCP proxy, one thing with
 * its certificate, and helpers to upload, set the desired value as the object Lambda does, and
 * wait for the shadow to say something.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startIotCore, type IotCore, type IotCoreOptions } from '../../sandbox/iot-core';
import { startLocalS3, type LocalS3 } from '../../sandbox/local-s3';
import type { Agent, AgentOptions } from '../../agent/agent';
import type { SyncOutcome } from '../../agent/file-sync';
import { createLogger } from '../../core/logger';
import { startTcpProxy, type TcpProxy } from './agent-tcp-proxy';
import { sha256 } from './agent-fixtures';

export const BUCKET = 'shadowplug';

export interface AgentHarness {
  dir: string;
  dest: string;
  thing: string;
  iot: IotCore;
  s3: LocalS3;
  proxy: TcpProxy;
  /** Between the agent and the MQTT broker: `refuse(true)` + `cutAll()` take the agent offline for as long as a test needs. */
  mqttProxy: TcpProxy;
  admin: S3Client;
  /** Agent options for this thing (S3 through the proxy, fast retries). */
  agentOptions(over?: Partial<AgentOptions>): AgentOptions;
  /** Upload bytes; returns the desired value the object Lambda would write. */
  put(key: string, body: Buffer | string): Promise<{ url: string; hash: string; size: number }>;
  /** `desired.s3` = value (merged as a shadow update does; null clears). */
  setDesired(value: unknown): void;
  document(): { desired?: Record<string, unknown>; reported?: Record<string, unknown>; delta?: Record<string, unknown>; version: number };
  reported(): Record<string, unknown> | undefined;
  /** Number of GET requests S3 has seen through the proxy. */
  s3Gets(): number;
  /** Every `reported.s3` the shadow accepted, in order (the agent's reports; `null` when cleared). */
  reports(): unknown[];
  restartIot(): Promise<void>;
  close(): Promise<void>;
}

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Resolves with the agent's next `settled` outcome that `accept` takes (the agent settles after
 * every look at its shadow: in sync, or failed for good). Rejects after `timeoutMs`.
 */
export function nextSettled(agent: Agent, accept: (o: SyncOutcome) => boolean = () => true, timeoutMs = 15_000): Promise<SyncOutcome> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      agent.off('settled', onSettled);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for the agent to settle`));
    }, timeoutMs);
    const onSettled = (o: SyncOutcome) => {
      if (!accept(o)) return;
      clearTimeout(timer);
      agent.off('settled', onSettled);
      resolve(o);
    };
    agent.on('settled', onSettled);
  });
}

/**
 * Resolves once the agent is idle (nothing under way, nothing scheduled; see `Agent.idle`) having
 * seen shadow version `atLeast` or later: the state in which "nothing more happened" can be
 * asserted without waiting a while. Rejects after `timeoutMs` (an agent that keeps working or
 * retrying never gets there).
 */
export function untilIdle(agent: Agent, atLeast = 0, timeoutMs = 15_000): Promise<{ version: number }> {
  const reached = () => agent.idle && (agent.shadowVersion ?? -1) >= atLeast;
  if (reached()) return Promise.resolve({ version: agent.shadowVersion! });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      agent.off('idle', onIdle);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for the agent to be idle at shadow version >= ${atLeast} (idle: ${agent.idle}, version: ${agent.shadowVersion})`));
    }, timeoutMs);
    const onIdle = () => {
      if (!reached()) return;
      clearTimeout(timer);
      agent.off('idle', onIdle);
      resolve({ version: agent.shadowVersion! });
    };
    agent.on('idle', onIdle);
  });
}

/** Resolves on the agent's next `event` (connected, offline), without treating 'error' as fatal as events.once would. */
export function nextEvent(agent: Agent, event: 'connected' | 'offline', timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for the agent's '${event}'`)), timeoutMs);
    agent.once(event, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function startAgentHarness(options: { iot?: Partial<IotCoreOptions>; thing?: string } = {}): Promise<AgentHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-e2e-'));
  const thing = options.thing ?? 'device-1';
  const dest = join(dir, 'dest');
  mkdirSync(dest);
  const iotOptions: IotCoreOptions = { dir: join(dir, 'iot'), dataDir: join(dir, 'iot-data'), things: [thing], ...options.iot };
  let iot = await startIotCore(iotOptions);
  const mqttPort = iot.mqtt.port;
  const credentialsPort = iot.credentialsProvider.port;
  const dataPlanePort = iot.dataPlane.port;
  const s3 = await startLocalS3({ dir: join(dir, 's3'), buckets: [BUCKET] });
  const proxy = await startTcpProxy(s3.port);
  const mqttProxy = await startTcpProxy(mqttPort);
  const admin = s3.createClient();
  const cert = iot.issueThing(thing);
  const reports: unknown[] = [];
  const watchReports = () =>
    iot.observe(`$aws/things/${thing}/shadow/update/accepted`, (_topic, payload) => {
      const reported = (JSON.parse(payload.toString('utf8')) as { state?: { reported?: Record<string, unknown> | null } }).state?.reported;
      if (reported && Object.hasOwn(reported, 's3')) reports.push(reported.s3);
    });
  watchReports();

  const h: AgentHarness = {
    dir,
    dest,
    thing,
    get iot() {
      return iot;
    },
    s3,
    proxy,
    mqttProxy,
    admin,
    agentOptions: (over = {}) => ({
      endpoint: '127.0.0.1',
      port: mqttProxy.port,
      cert: cert.certPath,
      key: cert.keyPath,
      caFile: iot.ca.certPath,
      thingName: thing,
      credentialEndpoint: iot.credentialsProvider.endpoint,
      s3Endpoint: `http://127.0.0.1:${proxy.port}`,
      region: s3.region,
      dest,
      stateDir: join(dir, 'state'),
      retry: { initialMs: 50, maxMs: 400 },
      reconnect: { initialMs: 50, maxMs: 400 },
      requestTimeoutMs: 3000,
      progressIntervalMs: 0,
      // AGENT_TEST_LOG=1 shows the agent's log while debugging a test.
      ...(process.env.AGENT_TEST_LOG ? { logger: createLogger({ level: 'debug' }) } : {}),
      ...over,
    }),
    async put(key, body) {
      const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
      await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: buf }));
      return { url: `s3://${BUCKET}/${key}`, hash: sha256(buf), size: buf.length };
    },
    setDesired(value) {
      const r = iot.shadows.update(thing, { state: { desired: { s3: value as never } } });
      if (!r.ok) throw new Error(`desired update rejected: ${JSON.stringify(r.payload)}`);
    },
    document() {
      const doc = iot.shadows.get(thing) as { state?: Record<string, Record<string, unknown>>; version?: number } | undefined;
      return { ...(doc?.state ?? {}), version: doc?.version ?? 0 };
    },
    reported() {
      return h.document().reported?.s3 as Record<string, unknown> | undefined;
    },
    s3Gets() {
      return (proxy.upstreamText.match(/^GET \//gm) ?? []).length;
    },
    reports: () => [...reports],
    async restartIot() {
      await iot.close();
      iot = await startIotCore({ ...iotOptions, mqttPort, credentialsPort, dataPlanePort });
      watchReports();
    },
    async close() {
      admin.destroy();
      await proxy.close();
      await mqttProxy.close();
      await iot.close();
      await s3.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/**
 * Watches a final path while a test runs: every content ever seen there must hash to one of the
 * allowed hashes (undefined = the file may be absent). Call `stop()` to get what was seen.
 */
export function watchFinalPath(path: string, allowed: (string | undefined)[]): { stop(): Promise<(string | undefined)[]> } {
  const seen = new Set<string | undefined>();
  let running = true;
  const loop = (async () => {
    const { readFile } = await import('node:fs/promises');
    while (running) {
      try {
        seen.add(sha256(await readFile(path)));
      } catch {
        seen.add(undefined);
      }
      await new Promise((r) => setTimeout(r, 15));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const bad = [...seen].filter((s) => !allowed.includes(s));
      if (bad.length > 0) throw new Error(`final path ${path} held unexpected content: ${bad.join(', ')}`);
      return [...seen];
    },
  };
}
