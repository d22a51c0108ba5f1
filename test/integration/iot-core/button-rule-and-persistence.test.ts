/**
 * The button topic rule (payload + requestId + receivedAt to the handler; failures logged, never
 * fatal) and shadow persistence across a restart.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/logger';
import type { ButtonRuleEvent } from '../../../sandbox/iot-core';
import { connectMqtt, connectThing, startTestIotCore, type TestIotCore } from '../../helpers/iot-core-clients';

const opened: { close(): Promise<void> }[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(options: Parameters<typeof startTestIotCore>[0]): Promise<TestIotCore> {
  const iot = await startTestIotCore(options);
  opened.push(iot);
  return iot;
}

describe('button topic rule', () => {
  it('hands the payload plus requestId and receivedAt to the handler', async () => {
    const events: ButtonRuleEvent[] = [];
    const iot = await start({ buttons: ['G030JF05'], onButton: async (e) => void events.push(e), clock: () => 1_700_000_000_123 });
    const button = iot.issueButton('G030JF05');
    const client = await connectMqtt(iot.mqtt.url, { clientId: button.clientId, ca: iot.ca.certPem, cert: button.certPem, key: button.keyPem });
    opened.push({ close: () => client.endAsync(true) });
    await client.publishAsync('iotbutton/G030JF05', JSON.stringify({ serialNumber: 'G030JF05', clickType: 'SINGLE', batteryVoltage: '1705mV' }), { qos: 1 });
    await expect.poll(() => events.length).toBe(1);
    expect(events[0]).toEqual({
      serialNumber: 'G030JF05',
      clickType: 'SINGLE',
      batteryVoltage: '1705mV',
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      receivedAt: 1_700_000_000_123,
    });
  });

  it('logs a failing handler and a non-JSON payload, and keeps serving', async () => {
    const lines: Record<string, unknown>[] = [];
    let calls = 0;
    const iot = await start({
      things: ['remote'],
      onButton: () => {
        calls++;
        throw new Error('plug unreachable');
      },
      logger: createLogger({ level: 'warn', json: true, write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }),
    });
    const button = iot.issueButton('X1');
    const pressing = await connectMqtt(iot.mqtt.url, { clientId: button.clientId, ca: iot.ca.certPem, cert: readFileSync(button.certPath), key: readFileSync(button.keyPath) });
    opened.push({ close: () => pressing.endAsync(true) });
    await pressing.publishAsync('iotbutton/X1', 'not json', { qos: 1 });
    await pressing.publishAsync('iotbutton/X1', JSON.stringify({ clickType: 'DOUBLE' }), { qos: 1 });
    const client = await connectThing(iot, 'remote');
    opened.push({ close: () => client.endAsync(true) });
    await iot.buttonRuleIdle();
    await expect.poll(() => calls).toBe(1);
    await iot.buttonRuleIdle();
    expect(lines).toContainEqual(expect.objectContaining({ message: 'button rule: payload is not JSON, dropped', topic: 'iotbutton/X1' }));
    expect(lines).toContainEqual(expect.objectContaining({ message: 'button rule: action failed', error: 'plug unreachable' }));
    // The broker still answers.
    await client.publishAsync('$aws/things/remote/shadow/update', JSON.stringify({ state: { reported: { ok: true } } }), { qos: 1 });
    await expect.poll(() => iot.shadows.get('remote')).toMatchObject({ version: 1 });
  });
});

describe('shadow persistence', () => {
  it('keeps shadows, versions and deletions across a restart when a data directory is named', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'shadowplug-shadows-'));
    dirs.push(dataDir);
    const first = await start({ dataDir });
    first.shadows.update('lamp-1', { state: { desired: { on: true }, reported: { on: false } } });
    first.shadows.update('lamp-1', { state: { reported: { on: true } } });
    first.shadows.update('lamp-1', { state: { desired: { file: 'a' } } }, 'files');
    first.shadows.update('lamp-1', { state: { desired: { x: 1 } } }, 'gone');
    first.shadows.delete('lamp-1', 'gone');
    await first.close();
    expect(readdirSync(dataDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const second = await start({ dataDir });
    expect(second.shadows.get('lamp-1')).toMatchObject({ state: { desired: { on: true }, reported: { on: true } }, version: 2 });
    expect(second.shadows.listNamed('lamp-1')).toEqual(['files']);
    expect(second.shadows.get('lamp-1', 'gone')).toBeUndefined();
    expect(second.shadows.update('lamp-1', { state: { desired: { x: 2 } } }, 'gone').payload).toMatchObject({ version: 2 });
  });

  it('skips a damaged shadow file with a warning instead of refusing to start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'shadowplug-shadows-'));
    dirs.push(dataDir);
    writeFileSync(join(dataDir, 'broken.json'), '{"state":');
    const lines: string[] = [];
    const iot = await start({ dataDir, logger: createLogger({ level: 'warn', write: (l) => lines.push(l) }) });
    expect(iot.shadows.get('broken')).toBeUndefined();
    expect(lines.join('\n')).toMatch(/skipping unreadable shadow file.*broken\.json/);
    iot.shadows.update('ok', { state: { reported: { a: 1 } } });
    await iot.close(); // shadow files are written behind memory, all of them by close
    expect(JSON.parse(readFileSync(join(dataDir, 'ok.json'), 'utf8'))).toMatchObject({ version: 1, exists: true });
  });

  it('keeps shadows in memory only when no data directory is named', async () => {
    const a = await start({});
    a.shadows.update('lamp-1', { state: { reported: { on: true } } });
    await a.close();
    const b = await start({});
    expect(b.shadows.get('lamp-1')).toBeUndefined();
  });
});
