/**
 * Starting and stopping: certificates reused across starts, typed errors for bad names and busy
 * ports, and a close() that ends open connections at once.
 */
import { createServer, type Server } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { GetThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { CertificateAuthority } from '../../../sandbox/iot/certificate-authority';
import { IotCoreCertificateError } from '../../../sandbox/iot/errors';
import { connectThing, startTestIotCore, type TestIotCore } from '../../helpers/iot-core-clients';

const opened: TestIotCore[] = [];

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

describe('IoT Core stand-in lifecycle', () => {
  it('reuses the CA and certificates on the next start', async () => {
    const first = await startTestIotCore({ things: ['lamp-1'] });
    opened.push(first);
    const caPem = first.ca.certPem;
    const certPem = readFileSync(first.issueThing('lamp-1').certPath, 'utf8');
    await first.close();
    opened.pop();
    const second = await startTestIotCore({ things: ['lamp-1'] });
    opened.push(second);
    expect(second.ca.certPem).toBe(caPem);
    expect(second.issueThing('lamp-1').certPem).toBe(certPem);
    // The reused certificate still connects.
    const client = await connectThing(second, 'lamp-1');
    await client.endAsync(true);
  });

  it('re-issues certificates left over from an earlier CA, and names a damaged certificate file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shadowplug-ca-'));
    try {
      const old = CertificateAuthority.open(dir).issueThing('lamp-1');
      rmSync(join(dir, 'ca.pem'));
      rmSync(join(dir, 'ca.key'));
      const ca = CertificateAuthority.open(dir);
      const fresh = ca.issueThing('lamp-1');
      expect(fresh.certPem).not.toBe(old.certPem);
      expect(new X509Certificate(fresh.certPem).checkIssued(new X509Certificate(ca.certPem))).toBe(true);
      writeFileSync(join(dir, 'things', 'lamp-2.cert.pem'), 'garbage');
      writeFileSync(join(dir, 'things', 'lamp-2.private.key'), 'garbage');
      expect(() => CertificateAuthority.open(dir).issueThing('lamp-2')).toThrow(IotCoreCertificateError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an invalid thing name, button serial or role alias with IOT_CORE_INVALID_NAME', async () => {
    await expect(startTestIotCore({ things: ['lamp/1'] })).rejects.toMatchObject({ code: 'IOT_CORE_INVALID_NAME', retryable: false });
    await expect(startTestIotCore({ buttons: ['a b'] })).rejects.toThrow(/Invalid button serial "a b"/);
    await expect(startTestIotCore({ roleAlias: 'no/slash' })).rejects.toMatchObject({ code: 'IOT_CORE_INVALID_NAME', retryable: false });
  });

  it('names host:port when a port is taken, and leaves nothing listening', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const mqttPort = await freePort();
    try {
      const err = await startTestIotCore({ mqttPort, dataPlanePort: port }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'IOT_CORE_LISTEN', retryable: true });
      expect((err as Error).message).toContain(`127.0.0.1:${port}`);
      // The MQTT listener that did start was closed again: its port is free.
      const probe = createServer();
      await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(mqttPort, '127.0.0.1', resolve));
      probe.close();
    } finally {
      blocker.close();
    }
  });

  // A close() that waited for these connections would wait for the HTTP server's request timeout
  // (minutes) and fail this test on its timeout; no stopwatch needed.
  it('closes without waiting for MQTT clients and keep-alive HTTPS connections left open', async () => {
    const iot = await startTestIotCore({ things: ['lamp-1'] });
    opened.push(iot);
    const client = await connectThing(iot, 'lamp-1');
    const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const sdk = iot.createDataPlaneClient();
    await expect(sdk.send(new GetThingShadowCommand({ thingName: 'lamp-1' }))).rejects.toThrow();
    // A raw keep-alive connection mid-request (body never finished).
    const agent = new Agent({ ca: iot.ca.certPem, keepAlive: true });
    const pending = request({ host: '127.0.0.1', port: iot.dataPlane.port, method: 'POST', path: '/things/lamp-1/shadow', agent });
    pending.on('error', () => undefined);
    const connected = new Promise<void>((resolve) => pending.once('socket', (s) => s.once('secureConnect', () => resolve())));
    await new Promise<void>((resolve, reject) => pending.write('{"state":', (err) => (err ? reject(err) : resolve())));
    await connected;

    await iot.close();
    await clientClosed;
    client.end(true);
    agent.destroy();
    sdk.destroy();
  });
});
