import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIotCore, type IotCore } from '../../../sandbox/iot-core';
import { IotCredentialsProvider, parseCredentialEndpoint } from '../../../agent/credentials';
import { AgentError } from '../../../agent/errors';

describe('IotCredentialsProvider against the sandbox credentials provider (mutual TLS)', () => {
  let dir: string;
  let iot: IotCore;
  let now = Date.parse('2026-03-01T12:00:00Z');
  const clock = () => now;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-creds-'));
    iot = await startIotCore({ dir, things: ['dev-1', 'dev-2'], clock, credentials: { accessKeyId: 'AK', secretAccessKey: 'SK', lifetimeSeconds: 3600 } });
  });
  afterAll(async () => {
    await iot.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const provider = (thing = 'dev-1', certOf = thing) => {
    const c = iot.issueThing(certOf);
    return new IotCredentialsProvider({
      endpoint: iot.credentialsProvider.endpoint,
      thingName: thing,
      cert: readFileSync(c.certPath),
      key: readFileSync(c.keyPath),
      ca: iot.ca.certPem,
      clock,
    });
  };

  it('fetches credentials with the device certificate and caches them until 5 minutes before expiration', async () => {
    const p = provider();
    const first = await p.get();
    expect(first).toMatchObject({ accessKeyId: 'AK', secretAccessKey: 'SK' });
    expect(first.sessionToken).toBeTruthy();
    expect(first.expiration?.getTime()).toBe(now + 3600_000);
    await Promise.all([p.get(), p.get()]);
    expect(p.fetches).toBe(1);
    now += 54 * 60_000; // 6 minutes left: still cached
    await p.get();
    expect(p.fetches).toBe(1);
    now += 2 * 60_000; // 4 minutes left: refreshed
    const second = await p.get();
    expect(p.fetches).toBe(2);
    expect(second.sessionToken).not.toBe(first.sessionToken);
  });

  it('fetches again after invalidate() (S3 answered 403)', async () => {
    const p = provider();
    await p.get();
    p.invalidate();
    await p.get();
    expect(p.fetches).toBe(2);
  });

  it('says 403 when the thing name header does not match the certificate, and that retrying will not help', async () => {
    const err = await provider('dev-2', 'dev-1').get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect(err).toMatchObject({ status: 403, retryable: false, code: 'CREDENTIALS' });
    expect((err as Error).message).toContain(`127.0.0.1:${iot.credentialsProvider.port}`);
  });

  it('says the endpoint is unreachable (retryable) when nothing listens', async () => {
    const c = iot.issueThing('dev-1');
    const p = new IotCredentialsProvider({ endpoint: '127.0.0.1:1/role-aliases/a/credentials', thingName: 'dev-1', cert: readFileSync(c.certPath), key: readFileSync(c.keyPath) });
    const err = await p.get().catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true });
    expect((err as Error).message).toContain('unreachable');
  });
});

describe('parseCredentialEndpoint', () => {
  it('accepts the seed format with or without https://', () => {
    expect(parseCredentialEndpoint('c2abc.credentials.iot.eu-west-1.amazonaws.com/role-aliases/my-alias/credentials')).toEqual({
      host: 'c2abc.credentials.iot.eu-west-1.amazonaws.com', port: 443, path: '/role-aliases/my-alias/credentials',
    });
    expect(parseCredentialEndpoint('https://127.0.0.1:8443/role-aliases/a/credentials')).toEqual({ host: '127.0.0.1', port: 8443, path: '/role-aliases/a/credentials' });
  });

  it.each(['http://h/role-aliases/a/credentials', 'h/role-aliases/a', 'h/other'])('refuses %s', (value) => {
    expect(() => parseCredentialEndpoint(value)).toThrow(expect.objectContaining({ code: 'CREDENTIALS', retryable: false }));
  });
});
