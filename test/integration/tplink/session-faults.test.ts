/**
 * Our KLAP and AES transports against a fault-injecting device (sandbox/plugs, proven by
 * python-kasa in peer-clients.test.ts): each fault ends in a clear, typed error naming the device,
 * or in one transparent recovery, within the request timeout and a bounded number of round trips.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AesTransport } from '../../../core/tplink/aes-transport';
import {
  TplinkAuthenticationError,
  TplinkProtocolError,
  TplinkSmartError,
  TplinkTimeoutError,
} from '../../../core/tplink/errors';
import { KlapTransport } from '../../../core/tplink/klap-transport';
import { klapAuthHash } from '../../../core/tplink/klap-crypto';
import { SessionCache } from '../../../core/tplink/session-transport';
import { SmartPlug } from '../../../core/tplink/smart-plug';
import { startSimulatedDevice, type SimulatedDevice, type SimulatedDeviceKind } from '../../../sandbox/plugs/simulated-devices';
import type { SessionTransport } from '../../../core/tplink/session-transport';

const credentials = { username: 'owner@example.com', password: 'secret' };
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function device(kind: SimulatedDeviceKind, extra: Parameters<typeof startSimulatedDevice>[1] extends infer O ? Partial<O> : never = {}): Promise<SimulatedDevice> {
  const d = await startSimulatedDevice(kind, { credentials, ...extra });
  open.push(d);
  return d;
}

function klap(d: SimulatedDevice, options: ConstructorParameters<typeof KlapTransport>[1] = {}): KlapTransport {
  const t = new KlapTransport({ host: d.host, port: d.port }, { credentials, sessions: new SessionCache(), requestTimeoutMs: 2000, ...options });
  open.push(t);
  return t;
}

function aes(d: SimulatedDevice, options: ConstructorParameters<typeof AesTransport>[1] = {}): AesTransport {
  const t = new AesTransport({ host: d.host, port: d.port }, { credentials, sessions: new SessionCache(), requestTimeoutMs: 2000, ...options });
  open.push(t);
  return t;
}

const getInfo = { method: 'get_device_info' };
const sysinfo = { system: { get_sysinfo: {} } };

async function failure(t: SessionTransport, request: object): Promise<unknown> {
  return t.send(request).then(
    () => {
      throw new Error('expected the request to fail');
    },
    (err: unknown) => err,
  );
}

describe('KLAP transport against a faulty device', () => {
  it('refuses a device whose handshake proves other credentials: authentication error naming host:port, after handshake 1 only', async () => {
    const d = await device('p110-klap', { faults: { wrongServerHash: true } });
    const err = await failure(klap(d), getInfo);
    expect(err).toBeInstanceOf(TplinkAuthenticationError);
    expect(err).toMatchObject({ retryable: false, host: d.host, port: d.port, code: 'TPLINK_AUTH' });
    expect((err as Error).message).toMatch(new RegExp(`^127\\.0\\.0\\.1:${d.port}: authentication failed`));
    expect(d.server.stats.http).toBe(1);
  });

  it('never puts the password or the auth hash in an error', async () => {
    const d = await device('p110-klap', { faults: { wrongServerHash: true } });
    const err = (await failure(klap(d), getInfo)) as Error;
    const text = JSON.stringify({ ...err, text: err.message, stack: err.stack });
    expect(text).not.toContain(credentials.password);
    for (const version of [1, 2] as const) {
      const hash = klapAuthHash(version, credentials);
      expect(text).not.toContain(hash.toString('hex'));
      expect(text).not.toContain(hash.toString('base64'));
    }
  });

  it('answers 403 on every request: handshakes once more, then a session error', async () => {
    const d = await device('p110-klap', { faults: { forbidRequests: true } });
    const err = await failure(klap(d), getInfo);
    expect(err).toMatchObject({ code: 'TPLINK_SESSION', retryable: true });
    expect(err).toMatchObject({ retryable: true, host: d.host, port: d.port });
    expect(d.server.stats.handshakes).toBe(2);
  });

  it('a reply with bad padding: handshakes once more, then a decrypt error', async () => {
    const d = await device('p110-klap', { faults: { corruptReply: true } });
    const err = await failure(klap(d), getInfo);
    expect(err).toBeInstanceOf(TplinkProtocolError);
    expect(err).toMatchObject({ reason: 'decrypt', host: d.host, port: d.port });
    expect(d.server.stats.handshakes).toBe(2);
  });

  it('a truncated reply: a retryable reset saying how much arrived', async () => {
    const d = await device('p110-klap');
    const t = klap(d);
    await t.send(getInfo);
    d.server.faults.truncateReply = true;
    const err = await failure(t, getInfo);
    expect(err).toMatchObject({ code: 'TPLINK_CONNECTION_RESET' });
    expect((err as Error).message).toMatch(/cut short after \d+ bytes/);
  });

  it('a huge reply: refused at the body limit', async () => {
    const d = await device('p110-klap');
    const t = klap(d, { maxBodyBytes: 4096 });
    await t.send(getInfo);
    d.server.faults.hugeReplyBytes = 10 * 1024 * 1024;
    const err = await failure(t, getInfo);
    expect(err).toBeInstanceOf(TplinkProtocolError);
    expect(err).toMatchObject({ reason: 'oversize' });
    expect((err as Error).message).toMatch(/limit of 4096 bytes/);
  });

  it('a silent device: a request timeout', async () => {
    const d = await device('p110-klap', { faults: { silent: true } });
    const err = await failure(klap(d, { requestTimeoutMs: 300 }), getInfo);
    expect(err).toBeInstanceOf(TplinkTimeoutError);
    expect(err).toMatchObject({ phase: 'request', timeoutMs: 300, retryable: true });
  });

  it('a session the device ends mid-use: one transparent re-handshake', async () => {
    const d = await device('p110-klap');
    const t = klap(d);
    await t.send(getInfo);
    d.server.endSessions();
    await expect(t.send(getInfo)).resolves.toMatchObject({ error_code: 0 });
    expect(d.server.stats.handshakes).toBe(2);
  });

  it('reuses the session across transports until the TIMEOUT cookie (minus a margin) has passed on the given clock', async () => {
    const d = await device('p110-klap', { timeoutSeconds: 3600 });
    let now = 1_000_000;
    const sessions = new SessionCache();
    const first = klap(d, { sessions, now: () => now });
    await first.send(getInfo);
    await klap(d, { sessions, now: () => now }).send(getInfo);
    expect(d.server.stats.handshakes).toBe(1);
    now += 3600 * 1000 * 0.8 + 1; // past TIMEOUT minus a fifth of it
    await klap(d, { sessions, now: () => now }).send(getInfo);
    expect(d.server.stats.handshakes).toBe(2);
    expect(d.server.stats.http).toBe(2 * 2 + 3);
  });

  it('handshakes again before the sequence number would leave int32', async () => {
    const d = await device('p110-klap');
    const sessions = new SessionCache();
    const t = klap(d, { sessions });
    await t.send(getInfo);
    const session = sessions.get<{ seq: number }>(`KlapTransport:127.0.0.1:${d.port}`)!;
    session.seq = 0x7fffffff;
    await expect(t.send(getInfo)).resolves.toMatchObject({ error_code: 0 });
    expect(d.server.stats.handshakes).toBe(2);
  });

  it('firmware taking one request per session: learned after the first refusal, then a handshake per request', async () => {
    const d = await device('hs100-klap1', { faults: { oneRequestPerSession: true } });
    const t = klap(d);
    for (let i = 0; i < 4; i++) await expect(t.send(sysinfo)).resolves.toHaveProperty('system');
    // 1: handshake + request; 2: refused, handshake + request; 3 and 4: handshake + request.
    expect(d.server.stats.handshakes).toBe(4);
    expect(d.server.stats.requests).toBe(4);
    expect(d.server.stats.http).toBe(4 * 3 + 1);
  });
});

describe('AES transport against a faulty device', () => {
  it('wrong credentials: an authentication error naming host:port', async () => {
    const d = await device('p100-aes');
    const err = await failure(aes(d, { credentials: { username: credentials.username, password: 'wrong' } }), getInfo);
    expect(err).toBeInstanceOf(TplinkAuthenticationError);
    expect(err).toMatchObject({ host: d.host, port: d.port, retryable: false });
    expect((err as Error).message).not.toContain('wrong');
  });

  it('logs in with the login version the firmware takes (v1 here)', async () => {
    const d = await device('p100-aes', { loginVersion: 1 });
    const t = aes(d);
    await expect(t.send(getInfo)).resolves.toMatchObject({ error_code: 0 });
    expect(t.loginVersion).toBe(1);
  });

  it('session refused on every request (9999): handshakes once more, then a session error', async () => {
    const d = await device('p100-aes');
    const t = aes(d);
    await t.send(getInfo);
    d.server.faults.forbidRequests = true;
    const err = await failure(t, getInfo);
    expect(err).toMatchObject({ code: 'TPLINK_SESSION', retryable: true });
    expect(d.server.stats.handshakes).toBe(2);
  });

  it('a reply with bad padding: handshakes once more, then a decrypt error', async () => {
    const d = await device('p100-aes');
    const t = aes(d);
    await t.send(getInfo);
    d.server.faults.corruptReply = true;
    const err = await failure(t, getInfo);
    expect(err).toMatchObject({ reason: 'decrypt', host: d.host, port: d.port });
  });

  it('a session the device ends mid-use: one transparent re-handshake and login', async () => {
    const d = await device('p100-aes');
    const t = aes(d);
    await t.send(getInfo);
    d.server.endSessions();
    await expect(t.send(getInfo)).resolves.toMatchObject({ error_code: 0 });
    expect(d.server.stats.handshakes).toBe(2);
  });
});

describe('SMART protocol', () => {
  it('falls back to single requests when the firmware refuses multipleRequest (-1003), and pages through outlets', async () => {
    const d = await device('p300-klap', { pageSize: 1 });
    (d.model as unknown as { options: { multipleRequestError?: number } }).options.multipleRequestError = -1003;
    const plug = new SmartPlug(klap(d));
    const status = await plug.status();
    expect(status.children?.map((c) => c.alias)).toEqual(['Monitor', 'Speakers', 'Charger']);
    expect(plug.protocol.batching).toBe(false);
  });

  it('maps error codes to typed errors: -1002 not retryable, 9999 retryable', async () => {
    const d = await device('p110-klap');
    const plug = new SmartPlug(klap(d));
    const unknown = await plug.protocol.call('no_such_method').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(TplinkSmartError);
    expect(unknown).toMatchObject({ errorCode: -1002, retryable: false, method: 'no_such_method' });
    expect(new TplinkSmartError({ host: 'h', port: 80 }, 'm', 9999).retryable).toBe(true);
  });
});
