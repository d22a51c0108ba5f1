import { describe, expect, it } from 'vitest';
import { formatNotification, snsSubject } from '../../../core/button/notify';
import { ButtonTargetError } from '../../../core/button/errors';
import type { ClickOutcome } from '../../../core/button/outcome';
import { TplinkTimeoutError } from '../../../core/tplink/errors';

const base: ClickOutcome = {
  serial: 'G030JF05',
  clickType: 'SINGLE',
  source: 'iot-button',
  requestId: 'req-1',
  receivedAt: Date.parse('2026-01-01T10:00:00.000Z'),
  action: 'toggle',
  status: 'done',
  power: true,
  targets: [{ target: '10.0.0.1:9999', host: '10.0.0.1', port: 9999, alias: 'Desk lamp', before: false, after: true, status: 'switched' }],
  battery: { low: false, batteryVoltageMv: 1705 },
  notification: 'off',
  elapsedMs: 42,
};

describe('formatNotification', () => {
  it('names the plug, before and after, the click type and the button', () => {
    const n = formatNotification(base);
    expect(n.subject).toBe('shadowplug: Desk lamp on (SINGLE click)');
    expect(n.message).toContain('SINGLE click on button G030JF05 (toggle): turned on.');
    expect(n.message).toContain('- Desk lamp (10.0.0.1:9999): off -> on');
    expect(n.message).toContain('request req-1, received 2026-01-01T10:00:00.000Z');
  });

  it('gives host:port and the cause of a failure', () => {
    const target = { host: '10.0.0.7', port: 9999 };
    const error = new ButtonTargetError(target, 'reading the state', new TplinkTimeoutError(target, 'connect', 2000));
    const n = formatNotification({
      ...base,
      status: 'failed',
      targets: [{ target: '10.0.0.7:9999', ...target, status: 'failed', error }],
    });
    expect(n.subject).toBe('shadowplug: 10.0.0.7:9999: SINGLE click failed');
    expect(n.message).toContain(
      '- 10.0.0.7:9999: FAILED: plug 10.0.0.7:9999: reading the state failed: no connection within 2000 ms (is the plug online and on this network?) [TPLINK_TIMEOUT]',
    );
  });

  it('warns of a low battery in subject and message', () => {
    const n = formatNotification({ ...base, battery: { low: true, batteryVoltageMv: 1150, threshold: '1300 mV' } });
    expect(n.subject.startsWith('shadowplug: [battery low] ')).toBe(true);
    expect(n.message).toContain('Battery low: 1150 mV (warning below 1300 mV).');
  });
});

describe('snsSubject', () => {
  it('keeps SNS subjects ASCII, single-line and under 100 characters', () => {
    const s = snsSubject('Lampe über dem Sofa\n' + 'x'.repeat(200));
    expect(s.length).toBeLessThan(100);
    expect(s).toMatch(/^[\x20-\x7e]+$/);
    expect(s.startsWith('Lampe ?ber dem Sofa?')).toBe(true);
  });
});
