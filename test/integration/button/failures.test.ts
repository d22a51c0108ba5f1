/**
 * What the owner hears, and what happens when things go wrong: unreachable plugs, malformed
 * events, SNS failures. SNS is mocked at the SDK boundary (aws-sdk-client-mock); the plugs are
 * real sockets on 127.0.0.1.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ButtonEventError, ButtonTargetError } from '../../../core/button/errors';
import { TplinkConnectionRefusedError, TplinkTimeoutError } from '../../../core/tplink/errors';
import { closedPort, startFaultPlug, type FaultPlug } from '../../helpers/fault-plug';
import { at, buttonHarness, ruleClick, type ButtonHarness } from '../../helpers/button-harness';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:shadowplug-outcomes';
const SERIAL = 'G030JF0512345678';
const sns = mockClient(SNSClient);
let h: ButtonHarness;
const faults: FaultPlug[] = [];

beforeEach(() => {
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'sns-1' });
});
afterEach(async () => {
  await h.close();
  await Promise.allSettled(faults.splice(0).map((f) => f.close()));
});

function published(): { Subject?: string; Message?: string; TopicArn?: string }[] {
  return sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
}

describe('notification', () => {
  it('publishes one message per click with the plug alias, before and after, click type and serial', async () => {
    h = buttonHarness();
    const plug = await h.plug({ alias: 'Living room lamp' });
    const outcome = await h.handler({ defaultTargets: at(plug), snsTopicArn: TOPIC })(ruleClick(SERIAL, 'DOUBLE', { requestId: 'r-9' }));
    expect(outcome.clicks[0]!.notification).toBe('sent');
    const [msg, ...more] = published();
    expect(more).toEqual([]);
    expect(msg!.TopicArn).toBe(TOPIC);
    expect(msg!.Subject).toBe('shadowplug: Living room lamp on (DOUBLE click)');
    expect(msg!.Message).toContain(`DOUBLE click on button ${SERIAL} (toggle): turned on.`);
    expect(msg!.Message).toContain(`- Living room lamp (${at(plug)}): off -> on`);
    expect(msg!.Message).toContain('request r-9');
    expect(msg!.Message).not.toContain('Battery low');
  });

  it('says the battery is low when the button reports less than the threshold', async () => {
    h = buttonHarness();
    const plug = await h.plug();
    const outcome = await h.handler({ defaultTargets: at(plug), snsTopicArn: TOPIC, lowBatteryMillivolts: 1500 })(
      ruleClick(SERIAL, 'SINGLE', { batteryVoltage: '1420mV' }),
    );
    expect(outcome.clicks[0]!.battery).toEqual({ low: true, batteryVoltageMv: 1420, threshold: '1500 mV' });
    const [msg] = published();
    expect(msg!.Subject).toMatch(/^shadowplug: \[battery low\] /);
    expect(msg!.Message).toContain('Battery low: 1420 mV (warning below 1500 mV).');
    expect(h.logs.some((l) => l.message === 'button battery low')).toBe(true);
  });

  it('publishes nothing when no topic is configured', async () => {
    h = buttonHarness();
    const plug = await h.plug();
    const outcome = await h.handler({ defaultTargets: at(plug) })(ruleClick(SERIAL));
    expect(outcome.clicks[0]!.notification).toBe('off');
    expect(published()).toEqual([]);
  });

  it('logs a failed publish and neither undoes nor repeats the switch', async () => {
    h = buttonHarness();
    const plug = await h.plug();
    sns.on(PublishCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' }));
    const changes: unknown[] = [];
    plug.events.on('change', (s) => changes.push(s));
    const outcome = await h.handler({ defaultTargets: at(plug), snsTopicArn: TOPIC })(ruleClick(SERIAL));
    expect(outcome.status).toBe('done');
    expect(outcome.clicks[0]!.notification).toBe('failed');
    expect(plug.state().relayState).toBe(1);
    expect(changes).toHaveLength(1);
    const line = h.logs.find((l) => l.message === 'notification failed');
    expect(line).toMatchObject({ level: 'error', err: { code: 'BUTTON_NOTIFY_FAILED', cause: { message: 'Rate exceeded' } } });
    expect(String((line!.err as { message: string }).message)).toContain(TOPIC);
  });
});

describe('an unreachable plug', () => {
  it('gives a typed error with host:port, a failure message, and returns at once on a closed port', async () => {
    h = buttonHarness();
    const port = await closedPort();
    // Timeouts far beyond the test's own: only failing on the refusal itself, not at a timeout, can pass.
    const outcome = await h.handler({
      defaultTargets: `127.0.0.1:${port}`,
      connectTimeoutMs: 60_000,
      requestTimeoutMs: 60_000,
      snsTopicArn: TOPIC,
    })(ruleClick(SERIAL));
    expect(outcome.status).toBe('failed');
    const target = outcome.clicks[0]!.targets[0]!;
    expect(target.status).toBe('failed');
    expect(target.error).toBeInstanceOf(ButtonTargetError);
    expect(target.error).toMatchObject({ host: '127.0.0.1', port, code: 'BUTTON_TARGET_FAILED' });
    expect(target.error!.cause).toBeInstanceOf(TplinkConnectionRefusedError);
    // The outcome survives JSON (what Lambda returns): where it failed and why.
    expect(JSON.parse(JSON.stringify(outcome)).clicks[0].targets[0].error).toMatchObject({
      host: '127.0.0.1',
      port,
      cause: { name: 'TplinkConnectionRefusedError', code: 'TPLINK_CONNECTION_REFUSED' },
    });
    const [msg] = published();
    expect(msg!.Subject).toBe(`shadowplug: 127.0.0.1:${port}: SINGLE click failed`);
    expect(msg!.Message).toContain(`- 127.0.0.1:${port}: FAILED: plug 127.0.0.1:${port}: reading the state failed: connection refused`);
    expect(msg!.Message).toContain('[TPLINK_CONNECTION_REFUSED]');
  }, 10_000);

  it('times out on a plug that accepts but never answers, within the configured timeout', async () => {
    h = buttonHarness();
    const silent = await startFaultPlug({ mode: 'silent' });
    faults.push(silent);
    const outcome = await h.handler({ defaultTargets: silent.address, connectTimeoutMs: 300, requestTimeoutMs: 300, snsTopicArn: TOPIC })(
      ruleClick(SERIAL),
    );
    expect(outcome.status).toBe('failed');
    // The configured request timer ended it (the lower bound), after the plug had the query; the test's
    // own timeout is the upper bound.
    const cause = outcome.clicks[0]!.targets[0]!.error!.cause;
    expect(cause).toBeInstanceOf(TplinkTimeoutError);
    expect(cause).toMatchObject({ phase: 'request', timeoutMs: 300, host: '127.0.0.1', port: silent.port });
    expect(silent.requests).toHaveLength(1);
    expect(published()[0]!.Message).toContain('[TPLINK_TIMEOUT]');
    await silent.allClosed();
  }, 10_000);

  it('still switches the plugs that answer, and reports the partial outcome', async () => {
    h = buttonHarness();
    const plug = await h.plug({ alias: 'Lamp' });
    const port = await closedPort();
    const outcome = await h.handler({ defaultTargets: [at(plug), `127.0.0.1:${port}`], snsTopicArn: TOPIC })(ruleClick(SERIAL));
    expect(outcome.status).toBe('partial');
    expect(outcome.clicks[0]!.targets.map((t) => t.status)).toEqual(['switched', 'failed']);
    expect(plug.state().relayState).toBe(1);
    const [msg] = published();
    expect(msg!.Subject).toBe('shadowplug: 2 plugs: SINGLE click partly failed');
    expect(msg!.Message).toContain(`- Lamp (${at(plug)}): off -> on`);
    expect(msg!.Message).toContain(`- 127.0.0.1:${port}: FAILED`);
  });
});

describe('a malformed event', () => {
  it.each([
    ['an empty object', {}, 'event'],
    ['no click type', { serialNumber: SERIAL }, 'clickType'],
    ['an unknown click type', { serialNumber: SERIAL, clickType: 'TRIPLE' }, 'clickType'],
    ['a bad receivedAt', { serialNumber: SERIAL, clickType: 'SINGLE', receivedAt: 'soon' }, 'receivedAt'],
    ['an SNS record with no message', { Records: [{ Sns: {} }] }, 'Records[0].Sns.Message'],
    ['an S3 event', { Records: [{ eventSource: 'aws:s3', s3: {} }] }, 'Records[0].Sns'],
    ['a string', 'SINGLE', 'event'],
  ])('(%s) is rejected without throwing, naming %s, and touches no plug', async (_name, event, field) => {
    h = buttonHarness();
    const plug = await startFaultPlug({ mode: 'ok' });
    faults.push(plug);
    const outcome = await h.handler({ defaultTargets: plug.address, snsTopicArn: TOPIC })(event);
    expect(outcome.status).toBe('rejected');
    expect(outcome.clicks).toEqual([]);
    expect(outcome.error).toBeInstanceOf(ButtonEventError);
    expect(outcome.error!.field).toBe(field);
    expect(plug.connections).toBe(0);
    expect(published()).toEqual([]);
    expect(h.logs).toContainEqual(expect.objectContaining({ level: 'warn', message: 'event rejected', missing: field }));
  });
});
