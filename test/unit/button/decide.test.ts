import { describe, expect, it } from 'vitest';
import { batteryReport, decide } from '../../../core/button/decide';
import { parseButtonConfig } from '../../../core/button/config';
import type { Click } from '../../../core/button/click';

const config = parseButtonConfig({
  SHADOWPLUG_PLUG_MODE: 'direct',
  SHADOWPLUG_DEFAULT_TARGETS: '10.0.0.1,10.0.0.1:9999',
  SHADOWPLUG_SERIAL_TARGETS: '{"KITCHEN":"10.0.0.2#0,10.0.0.2#1"}',
  SHADOWPLUG_CLICK_ACTIONS: 'DOUBLE=on,LONG=none',
  SHADOWPLUG_MAX_CLICK_AGE_SECONDS: '30',
});
const now = 1_700_000_100_000;
const click = (over: Partial<Click> = {}): Click => ({ serial: 'G030', clickType: 'SINGLE', source: 'iot-button', ...over });

describe('decide', () => {
  it('toggles the default targets, each plug once', () => {
    expect(decide(click(), config, { now, duplicate: false })).toEqual({
      kind: 'act',
      action: 'toggle',
      targets: [{ host: '10.0.0.1', port: 9999 }],
    });
  });

  it('sends a known serial to its own targets, with the configured action', () => {
    expect(decide(click({ serial: 'KITCHEN', clickType: 'DOUBLE' }), config, { now, duplicate: false })).toEqual({
      kind: 'act',
      action: 'on',
      targets: [
        { host: '10.0.0.2', port: 9999, child: 0 },
        { host: '10.0.0.2', port: 9999, child: 1 },
      ],
    });
  });

  it('acts on a click received within the max age, not on one older', () => {
    expect(decide(click({ receivedAt: now - 30_000 }), config, { now, duplicate: false }).kind).toBe('act');
    const late = decide(click({ receivedAt: now - 3_600_000 }), config, { now, duplicate: false });
    expect(late).toMatchObject({ kind: 'skip', reason: 'stale' });
    expect(late.kind === 'skip' && late.detail).toMatch(/3600 s ago, over the 30 s limit/);
  });

  it('skips a duplicate, a click mapped to none, and a serial with no target', () => {
    expect(decide(click({ requestId: 'r1' }), config, { now, duplicate: true })).toMatchObject({ kind: 'skip', reason: 'duplicate' });
    expect(decide(click({ clickType: 'LONG' }), config, { now, duplicate: false })).toMatchObject({ kind: 'skip', reason: 'action-none' });
    const serialOnly = parseButtonConfig({ SHADOWPLUG_PLUG_MODE: 'direct', SHADOWPLUG_SERIAL_TARGETS: '{"KNOWN":"10.0.0.3"}' });
    expect(decide(click({ serial: 'STRANGER' }), serialOnly, { now, duplicate: false })).toMatchObject({ kind: 'skip', reason: 'no-target' });
  });
});

describe('batteryReport', () => {
  it('flags a classic button under the millivolt threshold', () => {
    expect(batteryReport(click({ batteryVoltageMv: 1705 }), config)).toEqual({ low: false, batteryVoltageMv: 1705 });
    expect(batteryReport(click({ batteryVoltageMv: 1200 }), config)).toEqual({ low: true, batteryVoltageMv: 1200, threshold: '1300 mV' });
  });

  it('flags a 1-Click button under the remaining-life threshold', () => {
    expect(batteryReport(click({ remainingLifePercent: 5 }), config)).toEqual({ low: true, remainingLifePercent: 5, threshold: '10 %' });
  });

  it('never flags when the threshold is 0 or nothing is reported', () => {
    const off = parseButtonConfig({ SHADOWPLUG_PLUG_MODE: 'direct', SHADOWPLUG_DEFAULT_TARGETS: 'p', SHADOWPLUG_LOW_BATTERY_MILLIVOLTS: '0' });
    expect(batteryReport(click({ batteryVoltageMv: 900 }), off).low).toBe(false);
    expect(batteryReport(click(), config)).toEqual({ low: false });
  });
});
