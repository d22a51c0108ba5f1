/**
 * The credentials provider: mutual TLS with the thing's certificate, `x-amzn-iot-thingname` equal
 * to its CN, AWS's reply shape, and credentials the sandbox's local S3 accepts.
 */
import { request } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { localS3ClientConfig, startLocalS3, type LocalS3 } from '../../../sandbox/local-s3';
import { startTestIotCore, type TestIotCore } from '../../helpers/iot-core-clients';

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

function getCredentials(
  iot: TestIotCore,
  options: { cert?: { certPath: string; keyPath: string }; thingName?: string; path?: string },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: iot.credentialsProvider.host,
        port: iot.credentialsProvider.port,
        path: options.path ?? `/role-aliases/${iot.credentialsProvider.roleAlias}/credentials`,
        ca: iot.ca.certPem,
        ...(options.cert ? { cert: readFileSync(options.cert.certPath), key: readFileSync(options.cert.keyPath) } : {}),
        headers: options.thingName ? { 'x-amzn-iot-thingname': options.thingName } : {},
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('credentials provider', () => {
  let iot: TestIotCore;
  let s3: LocalS3;
  let s3Dir: string;
  const now = Date.parse('2026-11-21T12:00:00Z');

  beforeAll(async () => {
    s3Dir = mkdtempSync(join(tmpdir(), 'shadowplug-s3-'));
    s3 = await startLocalS3({ dir: s3Dir });
    iot = await startTestIotCore({
      things: ['agent-1'],
      buttons: ['B1'],
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, lifetimeSeconds: 900 },
      clock: () => now,
    });
  });

  afterAll(async () => {
    await iot?.close();
    await s3?.close();
    rmSync(s3Dir, { recursive: true, force: true });
  });

  it('names the endpoint as the agent takes it', () => {
    expect(iot.credentialsProvider.endpoint).toBe(`127.0.0.1:${iot.credentialsProvider.port}/role-aliases/shadowplug-role-alias/credentials`);
  });

  it("returns AWS's reply shape, and the credentials work against the local S3", async () => {
    const reply = await getCredentials(iot, { cert: iot.issueThing('agent-1'), thingName: 'agent-1' });
    expect(reply.status).toBe(200);
    const creds = reply.body.credentials as { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: string };
    expect(creds).toEqual({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', sessionToken: expect.any(String), expiration: '2026-11-21T12:15:00.000Z' });

    const { accessKeyId, secretAccessKey, sessionToken } = creds;
    const client = new S3Client(localS3ClientConfig(s3.endpoint, { accessKeyId, secretAccessKey, sessionToken }));
    try {
      await client.send(new PutObjectCommand({ Bucket: 'shadowplug', Key: 'things/agent-1/hello.txt', Body: 'hello' }));
      const got = await client.send(new GetObjectCommand({ Bucket: 'shadowplug', Key: 'things/agent-1/hello.txt' }));
      expect(await got.Body!.transformToString()).toBe('hello');
    } finally {
      client.destroy();
    }
  });

  it('answers 403 when the thing name header does not match the certificate', async () => {
    expect((await getCredentials(iot, { cert: iot.issueThing('agent-1'), thingName: 'agent-2' })).status).toBe(403);
    expect((await getCredentials(iot, { cert: iot.issueThing('agent-1') })).status).toBe(403);
  });

  it('answers 403 to a button certificate and 404 to an unknown role alias', async () => {
    const button = iot.issueButton('B1');
    expect((await getCredentials(iot, { cert: button, thingName: button.clientId })).status).toBe(403);
    const wrongAlias = await getCredentials(iot, { cert: iot.issueThing('agent-1'), thingName: 'agent-1', path: '/role-aliases/other/credentials' });
    expect(wrongAlias.status).toBe(404);
  });

  it('fails the TLS handshake without a client certificate', async () => {
    await expect(getCredentials(iot, { thingName: 'agent-1' })).rejects.toThrow(/certificate|socket hang up|ECONNRESET|alert/i);
  });
});
