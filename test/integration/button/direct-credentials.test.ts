/**
 * Direct mode with plugs of every kind: the real handler switches simulated KLAP v1, KLAP v2
 * (P110, SMART), AES (P100, SMART) plugs and a P300 strip outlet over HTTP on 127.0.0.1, with the
 * TP-Link account read from Secrets Manager — moto_server over real HTTP, IAM enforced — through
 * the handler's own default wiring (the setting names the secret; the SDK finds moto through
 * AWS_ENDPOINT_URL_SECRETS_MANAGER). An XOR plug never causes a read of the secret.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ButtonSecretError, ButtonTargetError } from '../../../core/button/errors';
import { secretCredentials } from '../../../core/button/secret-credentials';
import type { PublishInput } from '../../../core/button/sns-publish';
import { TplinkAuthenticationError } from '../../../core/tplink/errors';
import { klapAuthHash } from '../../../core/tplink/klap-crypto';
import { startSimulatedDevice, type SimulatedDevice, type SimulatedDeviceKind } from '../../../sandbox/plugs/simulated-devices';
import type { SimulatedSmartDevice } from '../../../sandbox/plugs/smart-device';
import { at, buttonHarness, ruleClick, type ButtonHarness } from '../../helpers/button-harness';
import { startMotoSecrets, type AccessKey, type MotoSecrets } from '../../helpers/moto-secrets';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:shadowplug-outcomes';
const SERIAL = 'G030JF0512345678';
const owner = { username: 'owner@example.com', password: `pw-${Math.random().toString(36).slice(2)}-correct horse` };

let moto: MotoSecrets;
let h: ButtonHarness;
const devices: SimulatedDevice[] = [];
const published: PublishInput[] = [];
let secrets = 0;

beforeAll(async () => {
  moto = await startMotoSecrets();
}, 60_000);
afterAll(() => moto?.close());
afterEach(async () => {
  vi.unstubAllEnvs();
  published.length = 0;
  await h?.close();
  await Promise.allSettled(devices.splice(0).map((d) => d.close()));
});

/** The function's AWS environment: moto as Secrets Manager, the given role's key. */
function lambdaEnv(key: AccessKey = moto.keys.function): void {
  vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', moto.endpoint);
  vi.stubEnv('AWS_REGION', moto.region);
  vi.stubEnv('AWS_ACCESS_KEY_ID', key.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', key.secretAccessKey);
  vi.stubEnv('AWS_SESSION_TOKEN', '');
}

async function secret(value: unknown = owner): Promise<string> {
  const name = `shadowplug/tplink-test-${process.pid}-${++secrets}`;
  await moto.create(name, typeof value === 'string' ? value : JSON.stringify(value));
  return name;
}

async function device(kind: SimulatedDeviceKind, credentials = owner): Promise<SimulatedDevice> {
  const d = await startSimulatedDevice(kind, { credentials });
  devices.push(d);
  return d;
}

const publish = async (input: PublishInput) => void published.push(input);

describe('direct mode with credentials from Secrets Manager', () => {
  it('switches an XOR plug without reading the secret at all', async () => {
    lambdaEnv();
    h = buttonHarness();
    const plug = await h.plug();
    const handler = h.handler({ defaultTargets: at(plug), plugCredentialsSecret: await secret() });
    const before = moto.getSecretValueCalls();
    expect((await handler(ruleClick(SERIAL))).status).toBe('done');
    expect(plug.state().relayState).toBe(1);
    expect((await handler(ruleClick(SERIAL))).status).toBe('done');
    expect(plug.state().relayState).toBe(0);
    expect(moto.getSecretValueCalls()).toBe(before);
  });

  it('switches KLAP v1, KLAP v2 (P110), AES (P100) plugs and a P300 outlet, reading the secret once per warm container', async () => {
    lambdaEnv();
    h = buttonHarness();
    const klap1 = await device('hs100-klap1');
    const p110 = await device('p110-klap');
    const p100 = await device('p100-aes');
    const p300 = await device('p300-klap');
    const settings = { defaultTargets: [at(klap1), at(p110), at(p100), at(p300, 1)], plugCredentialsSecret: await secret(), snsTopicArn: TOPIC };
    const before = moto.getSecretValueCalls();
    const warm = h.handler(settings, { publish });

    const first = await warm(ruleClick(SERIAL));
    expect(first.status, JSON.stringify(first)).toBe('done');
    expect(first.clicks[0]!.targets.map((t) => [t.status, t.alias])).toEqual([
      ['switched', 'Hall lamp'],
      ['switched', 'Kettle'],
      ['switched', 'Heater'],
      ['switched', 'Speakers'],
    ]);
    expect([klap1, p110, p100].map((d) => d.states())).toEqual([[true], [true], [true]]);
    expect(p300.states()).toEqual([false, true, false]);
    expect(published[0]!.message).toContain(`- Kettle (${at(p110)}): off -> on`);

    for (let i = 0; i < 3; i++) expect((await warm(ruleClick(SERIAL))).status).toBe('done');
    expect([klap1, p110, p100].map((d) => d.states())).toEqual([[false], [false], [false]]);
    expect(p300.states()).toEqual([false, false, false]);
    expect(moto.getSecretValueCalls() - before).toBe(1);
    // Warm clicks reuse the sessions: one handshake per device (AES: one handshake + login).
    expect([klap1, p110, p100, p300].map((d) => d.server.stats.handshakes)).toEqual([1, 1, 1, 1]);

    // A new container reads it again, once.
    await h.handler(settings, { publish })(ruleClick(SERIAL));
    expect(moto.getSecretValueCalls() - before).toBe(2);
  });

  it('switches a P300 outlet named by its child id, leaving the others', async () => {
    lambdaEnv();
    h = buttonHarness();
    const p300 = await device('p300-klap');
    const charger = (p300.model as SimulatedSmartDevice).outlets![2]!.deviceId;
    const outcome = await h.handler({ defaultTargets: `${at(p300)}#${charger}`, plugCredentialsSecret: await secret() })(ruleClick(SERIAL));
    expect(outcome.clicks[0]!.targets[0]).toMatchObject({ status: 'switched', alias: 'Charger', child: charger });
    expect(p300.states()).toEqual([false, false, true]);
  });

  it('reports wrong credentials as an authentication error naming host:port, after one handshake and one read of the secret', async () => {
    lambdaEnv();
    h = buttonHarness();
    const plug = await device('p110-klap');
    const before = moto.getSecretValueCalls();
    const outcome = await h.handler({ defaultTargets: at(plug), plugCredentialsSecret: await secret({ ...owner, password: 'wrong' }), snsTopicArn: TOPIC }, { publish })(
      ruleClick(SERIAL),
    );
    expect(outcome.status).toBe('failed');
    const error = outcome.clicks[0]!.targets[0]!.error!;
    expect(error).toBeInstanceOf(ButtonTargetError);
    expect(error.cause).toBeInstanceOf(TplinkAuthenticationError);
    expect(error).toMatchObject({ retryable: false });
    expect(published[0]!.message).toContain(`- ${at(plug)}: FAILED: plug ${at(plug)}: reading the state failed: authentication failed`);
    expect(published[0]!.message).toContain('[TPLINK_AUTH]');
    expect(plug.server.stats.handshakes).toBe(1);
    expect(plug.states()).toEqual([false]);
    expect(moto.getSecretValueCalls() - before).toBe(1);
  });

  it('reads the secret again after a refusal once its copy is old enough, and switches with the new password', async () => {
    lambdaEnv();
    h = buttonHarness();
    const plug = await device('hs100-klap1');
    const name = await secret({ ...owner, password: 'before rotation' });
    let now = Date.parse('2026-11-30T01:00:00Z');
    const credentials = secretCredentials({ secretId: name, clock: () => now, refreshAfterMs: 60_000 });
    const handler = h.handler({ defaultTargets: at(plug), plugCredentialsSecret: name }, { credentials });

    expect((await handler(ruleClick(SERIAL))).status).toBe('failed');
    await moto.put(name, JSON.stringify(owner));
    // Within the refresh interval a refusal does not read the secret again.
    expect((await handler(ruleClick(SERIAL))).status).toBe('failed');
    expect(credentials.fetches).toBe(1);
    now += 60_000;
    expect((await handler(ruleClick(SERIAL))).status).toBe('done');
    expect(plug.states()).toEqual([true]);
    expect(credentials.fetches).toBe(2);
  });

  it.each([
    ['does not exist', () => Promise.resolve(`shadowplug/absent-${process.pid}`), 'BUTTON_SECRET_MISSING'],
    ['may not be read by the role', () => secret(), 'BUTTON_SECRET_ACCESS_DENIED'],
    ['is not {"username", "password"}', () => secret({ user: owner.username, pass: owner.password }), 'BUTTON_SECRET_MALFORMED'],
  ])('fails the click with a typed error naming the secret when it %s, and touches no plug', async (what, make, code) => {
    lambdaEnv(what === 'may not be read by the role' ? moto.keys.outsider : moto.keys.function);
    h = buttonHarness();
    const plug = await device('p100-aes');
    const name = await make();
    const outcome = await h.handler({ defaultTargets: at(plug), plugCredentialsSecret: name, snsTopicArn: TOPIC }, { publish })(ruleClick(SERIAL));
    expect(outcome.status).toBe('failed');
    const cause = outcome.clicks[0]!.targets[0]!.error!.cause;
    expect(cause).toBeInstanceOf(ButtonSecretError);
    expect(cause).toMatchObject({ code, secretId: name, retryable: false });
    expect(published[0]!.message).toContain(`plug credentials secret "${name}"`);
    expect(published[0]!.message).toContain(`[${code}]`);
    expect(published[0]!.message).not.toContain(owner.password);
    expect(plug.server.stats.handshakes).toBe(0);
  });

  it('never logs or publishes a password or an authentication hash', async () => {
    lambdaEnv();
    h = buttonHarness();
    const kinds: SimulatedDeviceKind[] = ['hs100-klap1', 'hs103-klap2', 'p110-klap', 'p100-aes'];
    const right = await Promise.all(kinds.map((k) => device(k)));
    const wrong = await Promise.all(kinds.map((k) => device(k, { ...owner, password: 'not the one in the secret' })));
    const handler = h.handler({ defaultTargets: [...right, ...wrong].map((d) => at(d)), plugCredentialsSecret: await secret(), snsTopicArn: TOPIC, logLevel: 'debug' }, { publish });
    const outcomes = [await handler(ruleClick(SERIAL)), await handler(ruleClick(SERIAL))];
    expect(outcomes[0]!.status).toBe('partial');

    const text = JSON.stringify([h.logs, published, outcomes]);
    const sha1hex = (s: string) => createHash('sha1').update(s).digest('hex');
    const forbidden = [
      owner.password,
      Buffer.from(owner.password).toString('base64'),
      Buffer.from(sha1hex(owner.password)).toString('base64'),
      ...[1, 2].flatMap((v) => {
        const hash = klapAuthHash(v as 1 | 2, owner);
        return [hash.toString('hex'), hash.toString('base64')];
      }),
    ];
    for (const secretText of forbidden) expect(text).not.toContain(secretText);
    expect(h.logs.length).toBeGreaterThan(0);
  });
});
