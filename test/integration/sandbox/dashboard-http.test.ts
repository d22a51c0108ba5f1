/**
 * The dashboard's HTTP surface as any client sees it, against a real sandbox: what it refuses
 * (and that a refusal changes nothing), what it serves, and an upload through its POST.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../../core/logger';
import { startSandbox, type Sandbox } from '../../../sandbox/sandbox';
import { sandboxS3Client } from '../../../sandbox/upload';
import { HeadObjectCommand } from '@aws-sdk/client-s3';

describe('dashboard HTTP', () => {
  let dir: string;
  let sandbox: Sandbox;
  let base: string;
  let origin: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dashboard-http-'));
    sandbox = await startSandbox({ dir, devices: 2, dashboard: true, writeInfoFile: false });
    base = sandbox.info.dashboard!;
    origin = base.replace(/\/$/, '');
  });
  afterAll(async () => {
    await sandbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(base + path, { method: 'POST', body, headers: { Origin: origin, 'Content-Type': 'application/json', ...headers } });

  it('serves the page, its script and style with a strict Content-Security-Policy and no CORS', async () => {
    for (const path of ['', 'app.js', 'style.css', 'favicon.svg']) {
      const res = await fetch(base + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
    const script = await (await fetch(base + 'app.js')).text();
    expect(script).not.toMatch(/^import /m);
    expect(script).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
  });

  it('refuses malformed actions, naming what was wrong, without changing the plug', async () => {
    const cases: [Promise<Response>, number, RegExp][] = [
      [post('api/button', JSON.stringify({ type: 'TRIPLE' })), 400, /type must be SINGLE, DOUBLE or LONG/],
      [post('api/plug/toggle', JSON.stringify({ child: -1 })), 400, /child must be an outlet index/],
      [post('api/plug/toggle', 'x'.repeat(5000)), 413, /at most 4096 bytes/],
      [post('api/plug/toggle', '{}', { 'Content-Type': 'text/plain' }), 415, /application\/json/],
      [post('api/plug/toggle', JSON.stringify({ child: 3 })), 400, /has no outlet 3 \(it has 0\)/],
      [post('api/upload?name=a%2Fb', 'x', { 'Content-Type': 'application/octet-stream' }), 400, /without "\/"/],
      [post('api/upload?name=a.bin&thing=nobody', 'x', { 'Content-Type': 'application/octet-stream' }), 400, /no thing named "nobody"/],
      [post('api/nothing', '{}'), 404, /no action at POST \/api\/nothing/],
      [fetch(base + 'api/shadow?thing=nobody'), 404, /no thing named "nobody"/],
      [fetch(base + 'api/upload', { method: 'PUT', body: 'x', headers: { Origin: origin } }), 405, /PUT \/api\/upload is not allowed/],
    ];
    for (const [response, status, message] of cases) {
      const res = await response;
      expect(res.status).toBe(status);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    }
    expect((await sandbox.plugState()).relayState).toBe(0);
  });

  it.each([
    ['a backslash', 'a\\b.bin', 'it contains a backslash'],
    ['a control character', 'fw\u0007.bin', 'it contains control characters'],
    ['a name over 255 bytes', `${'é'.repeat(128)}.bin`, 'its file name is longer than 255 bytes'],
    ["the agent's reserved prefix", '.shadowplug-x', 'names starting with .shadowplug- are reserved for the agent'],
    ["a signed release's companion name", 'fw.bin.shadowplug-release', 'names ending in .shadowplug-release are the release bookkeeping'],
  ])('refuses up front an upload named with %s, which every device refuses, storing nothing', async (_what, name, rule) => {
    const res = await post(`api/upload?${new URLSearchParams({ name })}`, 'x', { 'Content-Type': 'application/octet-stream' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain(rule);
    const s3 = sandboxS3Client(sandbox.info);
    try {
      await expect(s3.send(new HeadObjectCommand({ Bucket: sandbox.info.s3.bucket, Key: name }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    } finally {
      s3.destroy();
    }
  });

  it('takes an upload for one thing by POST and delivers it', async () => {
    const bytes = Buffer.from('only for device 1\n');
    const res = await post('api/upload?name=one.txt&thing=shadowplug-device-1', bytes, { 'Content-Type': 'application/octet-stream' });
    expect(res.status).toBe(200);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    // Published as a signed release with the sandbox's key, which the devices trust.
    expect(await res.json()).toEqual({ key: 'things/shadowplug-device-1/one.txt', url: 's3://shadowplug/things/shadowplug-device-1/one.txt', size: bytes.length, sha256, release: 1 });
    await sandbox.waitForReported('shadowplug-device-1', sha256);
    const shadow = (await (await fetch(base + 'api/shadow?thing=shadowplug-device-1')).json()) as { version: number; document: { state: { reported: { s3: { hash: string; manifest: { release: number } } } } } };
    expect(shadow.document.state.reported.s3).toMatchObject({ hash: sha256, manifest: { release: 1 } });
    expect(shadow.version).toBeGreaterThan(0);
  });
});

describe('dashboard as an add-on', () => {
  it('leaves the sandbox running without it when its port is taken, and says why', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const { port } = taken.address() as AddressInfo;
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-taken-'));
    const lines: string[] = [];
    const sandbox = await startSandbox({ dir, dashboard: { port }, writeInfoFile: false, logger: createLogger({ level: 'warn', write: (l) => lines.push(l) }) });
    try {
      expect(sandbox.info.dashboard).toBeUndefined();
      expect(lines.join('\n')).toMatch(new RegExp(`running without the dashboard: the dashboard cannot listen on 127\\.0\\.0\\.1:${port}`));
      await sandbox.upload('still-works.txt', 'yes');
    } finally {
      await sandbox.close();
      await new Promise<void>((r) => taken.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
