/**
 * Hostile requests to every port of a running sandbox (`npx shadowplug sandbox --no-agents`, a
 * child process): the dashboard (its actions and its event stream), the IoT data-plane API, the
 * local S3, the credentials provider and the MQTT broker, each sent cut bodies, lengths that lie,
 * slow headers, 10 MB of headers, garbage and TLS garbage over real sockets. After every case the
 * sandbox is still running and that same endpoint answers a correct request correctly.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READY_LINE } from '../../sandbox/banner';
import { SERVER_LIMITS } from '../../sandbox/http-server';
import { localS3ClientConfig } from '../../sandbox/local-s3';
import type { SandboxInfo } from '../../sandbox/sandbox-info';
import { runCli, type CliRun } from '../helpers/sandbox-harness';

interface Endpoint {
  name: string;
  port: number;
  /** TLS options for a client the endpoint accepts (mutual TLS where it asks for it); undefined for plain HTTP. */
  tls?: ConnectionOptions;
  /** A request head that passes the endpoint's checks up to reading a body. */
  method: string;
  path: string;
  headers: Record<string, string>;
  /** A correct request, checked: the endpoint still works. */
  probe(): Promise<void>;
}

interface HostileCase {
  name: string;
  run(ep: Endpoint): Promise<void>;
}

const ignore = () => undefined;

function open(ep: { port: number; tls?: ConnectionOptions }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = ep.tls ? tlsConnect({ ...ep.tls, host: '127.0.0.1', port: ep.port }) : netConnect(ep.port, '127.0.0.1');
    socket.once(ep.tls ? 'secureConnect' : 'connect', () => {
      socket.off('error', reject);
      socket.on('error', ignore);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Resolves when the connection has closed (whoever closed it). */
function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });
}

/** Sends `bytes`, half-closes, and waits for the server to close its side. */
async function sendAndWait(ep: Endpoint, ...parts: (string | Buffer)[]): Promise<void> {
  const socket = await open(ep);
  for (const part of parts) socket.write(part);
  socket.end();
  socket.resume();
  await closed(socket);
}

function head(ep: Endpoint, extra: Record<string, string>, options: { method?: string; path?: string } = {}): string {
  const headers = { Host: `127.0.0.1:${ep.port}`, ...ep.headers, ...extra };
  return `${options.method ?? ep.method} ${options.path ?? ep.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
}

const HTTP_CASES: HostileCase[] = [
  {
    name: 'a body cut off after 1,000 of 100,000 bytes (the client gives up and closes)',
    run: (ep) => sendAndWait(ep, head(ep, { 'Content-Length': '100000' }), randomBytes(1000)),
  },
  {
    name: 'a body cut off after 1,000 of 100,000 bytes (the connection is reset)',
    async run(ep) {
      const socket = await open(ep);
      socket.write(head(ep, { 'Content-Length': '100000' }));
      socket.write(randomBytes(1000), () => (ep.tls ? socket.destroy() : socket.resetAndDestroy()));
      await closed(socket);
    },
  },
  {
    name: 'a Content-Length shorter than the body',
    run: (ep) => sendAndWait(ep, head(ep, { 'Content-Length': '10' }), randomBytes(1000)),
  },
  {
    name: 'a Content-Length that is not a number',
    run: (ep) => sendAndWait(ep, head(ep, { 'Content-Length': 'lots' }), 'x'),
  },
  {
    name: 'two Content-Lengths that disagree',
    run: (ep) => sendAndWait(ep, head(ep, { 'Content-Length': '5', 'content-length': '9' }), 'hello'),
  },
  {
    name: 'a chunked body cut mid-chunk',
    run: (ep) => sendAndWait(ep, head(ep, { 'Transfer-Encoding': 'chunked' }), '3e8\r\n', randomBytes(500)),
  },
  {
    name: 'a chunked body with a malformed chunk size',
    run: (ep) => sendAndWait(ep, head(ep, { 'Transfer-Encoding': 'chunked' }), 'zz\r\nhello\r\n0\r\n\r\n'),
  },
  {
    name: '10 MB of headers',
    run: (ep) => sendAndWait(ep, `${ep.method} ${ep.path} HTTP/1.1\r\nHost: 127.0.0.1:${ep.port}\r\nX-Big: `, 'a'.repeat(10 * 1024 * 1024), '\r\n\r\n'),
  },
  {
    name: 'garbage bytes instead of a request',
    run: (ep) => sendAndWait(ep, randomBytes(4096)),
  },
  {
    name: 'TLS garbage (a handshake to a plain port, a broken record to a TLS port)',
    async run(ep) {
      if (ep.tls) {
        // A TLS record header that announces a ClientHello, then noise.
        const socket = await open({ port: ep.port });
        socket.end(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x00, 0x3f, 0xfc]), randomBytes(2048)]));
        socket.resume();
        await closed(socket);
        return;
      }
      const socket = tlsConnect({ host: '127.0.0.1', port: ep.port, rejectUnauthorized: false });
      socket.on('error', ignore);
      await closed(socket);
    },
  },
  {
    name: 'a path the URL parser refuses (//)',
    run: (ep) => sendAndWait(ep, head(ep, { 'Content-Length': '0' }, { path: '//' })),
  },
  {
    name: 'a request line with a method nobody knows',
    run: (ep) => sendAndWait(ep, head(ep, { 'Content-Length': '0' }, { method: 'BREW' })),
  },
  {
    name: 'Expect: 100-continue, then no body',
    run: (ep) => sendAndWait(ep, head(ep, { 'Content-Length': '1000', Expect: '100-continue' })),
  },
  {
    name: 'a connection opened and closed at once',
    async run(ep) {
      const socket = await open(ep);
      socket.destroy();
      await closed(socket);
    },
  },
  {
    name: 'headers trickled (slowloris) while a correct request is served',
    async run(ep) {
      const socket = await open(ep);
      socket.write(`${ep.method} ${ep.path} HTTP/1.1\r\nHost: 127.0.0.1:${ep.port}\r\nX-Slow: a`);
      await ep.probe();
      socket.write('b');
      await ep.probe();
      socket.destroy();
      await closed(socket);
    },
  },
];

/** MQTT: the broker speaks its own protocol over mutual TLS. */
const MQTT_CASES: HostileCase[] = [
  {
    name: 'a CONNECT packet announcing 100,000 bytes, cut after 1,000',
    async run(ep) {
      const socket = await open(ep);
      socket.end(Buffer.concat([Buffer.from([0x10, 0xa0, 0x8d, 0x06]), randomBytes(1000)]));
      socket.resume();
      await closed(socket);
    },
  },
  {
    name: 'a 10 MB packet before CONNECT',
    async run(ep) {
      const socket = await open(ep);
      socket.end(Buffer.concat([Buffer.from([0x30, 0x80, 0x80, 0x80, 0x05]), Buffer.alloc(10 * 1024 * 1024, 0x61)]));
      socket.resume();
      await closed(socket);
    },
  },
  {
    name: 'garbage bytes instead of a packet',
    async run(ep) {
      const socket = await open(ep);
      socket.end(randomBytes(4096));
      socket.resume();
      await closed(socket);
    },
  },
  HTTP_CASES.find((c) => c.name.startsWith('TLS garbage'))!,
  HTTP_CASES.find((c) => c.name.startsWith('a connection opened'))!,
  {
    name: 'half a CONNECT (a slow sender) while a correct client connects',
    async run(ep) {
      const socket = await open(ep);
      socket.write(Buffer.from([0x10, 0x20, 0x00, 0x04]));
      await ep.probe();
      socket.destroy();
      await closed(socket);
    },
  },
];

function httpsJson(ep: Endpoint, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ ...ep.tls, host: '127.0.0.1', port: ep.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Numbers the probes' uploads and reports. */
let probes = 0;

/** The dashboard's POST actions and its event stream. */
function dashboardEndpoints(info: SandboxInfo): Endpoint[] {
  const thing = info.things[0]!;
  const dashboard = new URL(info.dashboard!);
  const origin = dashboard.origin;
  const dashboardPort = Number(dashboard.port);
  return [
    {
      name: 'dashboard upload',
      port: dashboardPort,
      method: 'POST',
      path: '/api/upload?name=x.bin',
      headers: { Origin: origin },
      async probe() {
        const body = randomBytes(100);
        const res = await fetch(new URL(`/api/upload?name=probe-${++probes}.bin`, dashboard), { method: 'POST', headers: { Origin: origin }, body });
        expect(res.status).toBe(200);
        expect(((await res.json()) as { sha256: string }).sha256).toBe(createHash('sha256').update(body).digest('hex'));
      },
    },
    {
      name: 'dashboard plug toggle (JSON)',
      port: dashboardPort,
      method: 'POST',
      path: '/api/plug/toggle',
      headers: { Origin: origin, 'Content-Type': 'application/json' },
      async probe() {
        const res = await fetch(new URL(`/api/shadow?thing=${thing.name}`, dashboard));
        expect(res.status).toBe(200);
        expect(((await res.json()) as { thing: string }).thing).toBe(thing.name);
      },
    },
    {
      name: 'dashboard event stream',
      port: dashboardPort,
      method: 'GET',
      path: '/api/events',
      headers: {},
      async probe() {
        const abort = new AbortController();
        const res = await fetch(new URL('/api/events', dashboard), { signal: abort.signal });
        expect(res.status).toBe(200);
        const { value } = await res.body!.getReader().read();
        expect(Buffer.from(value!).toString('utf8')).toContain('"kind":"snapshot"');
        abort.abort();
      },
    },
  ];
}

/** The data-plane API, the local S3, the credentials provider and the MQTT broker. */
function iotEndpoints(info: SandboxInfo, s3: S3Client): { http: Endpoint[]; mqtt: Endpoint } {
  const thing = info.things[0]!;
  const ca = readFileSync(info.ca);
  const device = { ca, cert: readFileSync(thing.cert), key: readFileSync(thing.key), servername: 'localhost' };
  const dataPlane: Endpoint = {
    name: 'IoT data-plane API',
    port: Number(new URL(info.dataPlane).port),
    tls: { ca, servername: 'localhost' },
    method: 'POST',
    path: `/things/${thing.name}/shadow`,
    headers: { 'Content-Type': 'application/json' },
    async probe() {
      const value = ++probes;
      const { status, json } = await httpsJson(dataPlane, 'POST', `/things/${thing.name}/shadow`, JSON.stringify({ state: { reported: { probe: value } } }));
      expect(status).toBe(200);
      expect(json).toMatchObject({ state: { reported: { probe: value } } });
    },
  };
  const s3Endpoint: Endpoint = {
    name: 'local S3',
    port: Number(new URL(info.s3.endpoint).port),
    method: 'PUT',
    path: `/${info.s3.bucket}/hostile.bin`,
    headers: { Authorization: `AWS4-HMAC-SHA256 Credential=${info.s3.accessKeyId}/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0` },
    async probe() {
      const body = randomBytes(100);
      await s3.send(new PutObjectCommand({ Bucket: info.s3.bucket, Key: 'probe.bin', Body: body }));
      const got = await s3.send(new GetObjectCommand({ Bucket: info.s3.bucket, Key: 'probe.bin' }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    },
  };
  const credentialsPath = `/${info.credentials.endpoint.split('/').slice(1).join('/')}`;
  const credentials: Endpoint = {
    name: 'credentials provider',
    port: Number(info.credentials.endpoint.split('/')[0]!.split(':')[1]),
    tls: device,
    method: 'GET',
    path: credentialsPath,
    headers: { 'x-amzn-iot-thingname': thing.name },
    async probe() {
      const { status, json } = await httpsJson(credentials, 'GET', credentialsPath, undefined, { 'x-amzn-iot-thingname': thing.name });
      expect(status).toBe(200);
      expect(json).toMatchObject({ credentials: { accessKeyId: info.s3.accessKeyId } });
    },
  };
  const mqttEndpoint: Endpoint = {
    name: 'MQTT broker',
    port: info.mqtt.port,
    tls: device,
    method: '',
    path: '',
    headers: {},
    async probe() {
      const client = await mqtt.connectAsync({ protocol: 'mqtts', host: '127.0.0.1', port: info.mqtt.port, ...device, clientId: thing.name, reconnectPeriod: 0, protocolVersion: 4 });
      await client.endAsync();
    },
  };
  return { http: [dataPlane, s3Endpoint, credentials], mqtt: mqttEndpoint };
}

describe('a sandbox under hostile requests', () => {
  const work = mkdtempSync(join(tmpdir(), 'sandbox-hostile-'));
  let run: CliRun;
  let info: SandboxInfo;
  const endpoints: Endpoint[] = [];
  let mqttEndpoint: Endpoint;
  let s3: S3Client;

  beforeAll(async () => {
    run = runCli(['sandbox', '--json', '--no-agents', '--dir', join(work, '.sandbox')]);
    await run.waitForLine((l) => l.startsWith(READY_LINE), 30_000);
    info = JSON.parse(await run.waitForLine((l) => l.startsWith('{'))) as SandboxInfo;
    s3 = new S3Client(localS3ClientConfig(info.s3.endpoint, info.s3));
    const iot = iotEndpoints(info, s3);
    endpoints.push(...dashboardEndpoints(info), ...iot.http);
    mqttEndpoint = iot.mqtt;
  }, 60_000);

  // The clean stop is checked here, after every case, whatever order the cases ran in.
  afterAll(async () => {
    s3?.destroy();
    const stillRunning = run !== undefined && run.child.exitCode === null;
    if (stillRunning) run.child.kill('SIGINT');
    const exit = run ? await run.exited : undefined;
    rmSync(work, { recursive: true, force: true });
    expect(stillRunning, 'the sandbox was still running after every hostile case').toBe(true);
    expect(exit?.code, `stops cleanly on SIGINT after all of it: ${run?.stderr()}`).toBe(0);
  });

  // 15 cases × 6 HTTP endpoints + 6 MQTT cases + 1 event-stream case + 7 stalled connections = 104.
  it.each(HTTP_CASES.map((c) => [c.name, c] as const))('every HTTP endpoint survives %s and answers the next request', async (_name, hostile) => {
    for (const ep of endpoints) {
      await hostile.run(ep);
      expect(run.child.exitCode, `${ep.name} after "${hostile.name}": ${run.stderr()}`).toBeNull();
      await ep.probe();
    }
  });

  it.each(MQTT_CASES.map((c) => [c.name, c] as const))('the MQTT broker survives %s and accepts the next client', async (_name, hostile) => {
    await hostile.run(mqttEndpoint);
    expect(run.child.exitCode, run.stderr()).toBeNull();
    await mqttEndpoint.probe();
  });

  it('the dashboard survives an event stream cut right after its first message', async () => {
    const ep = endpoints.find((e) => e.name === 'dashboard event stream')!;
    const socket = await open(ep);
    socket.write(head(ep, {}));
    await new Promise((resolve) => socket.once('data', resolve));
    socket.resetAndDestroy();
    await closed(socket);
    expect(run.child.exitCode).toBeNull();
    await ep.probe();
  });

  it('cuts a stalled header (or a stalled MQTT CONNECT) on every endpoint within the headers timeout, still serving the next request', async () => {
    const stalled = await Promise.all(
      [...endpoints, mqttEndpoint].map(async (ep) => {
        const socket = await open(ep);
        socket.write(ep === mqttEndpoint ? Buffer.from([0x10, 0x20, 0x00, 0x04]) : `${ep.method} ${ep.path} HTTP/1.1\r\nHost: 127.0.0.1:${ep.port}\r\nX-Slow: a`);
        socket.resume();
        return socket;
      }),
    );
    // The server closes them (Node's default would wait 60 s for a header, aedes 30 s for a CONNECT).
    await Promise.all(stalled.map(closed));
    for (const ep of [...endpoints, mqttEndpoint]) await ep.probe();
    expect(run.child.exitCode).toBeNull();
  }, SERVER_LIMITS.headersTimeoutMs * 2);

});
