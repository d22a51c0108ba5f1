import { describe, expect, it } from 'vitest';
import { normaliseEvent, parseBatteryMv, parseTimestamp } from '../../../core/button/events';
import { ButtonEventError } from '../../../core/button/errors';

const classic = { serialNumber: 'G030JF0512345678', clickType: 'SINGLE', batteryVoltage: '1705mV' };
const oneClick = {
  deviceInfo: { deviceId: 'G030PM0123456789', type: 'button', remainingLife: 5.0, attributes: {} },
  deviceEvent: { buttonClicked: { clickType: 'DOUBLE', reportedTime: '2018-05-04T23:26:33.747Z' } },
  placementInfo: { projectName: 'p', placementName: 'desk', attributes: {}, devices: {} },
};
const snsRecord = (message: unknown, id = 'msg-1') => ({
  EventSource: 'aws:sns',
  Sns: { MessageId: id, Timestamp: '2024-01-02T03:04:05.000Z', Message: JSON.stringify(message) },
});

function eventError(event: unknown): ButtonEventError {
  try {
    normaliseEvent(event);
  } catch (err) {
    expect(err).toBeInstanceOf(ButtonEventError);
    return err as ButtonEventError;
  }
  throw new Error('expected a ButtonEventError');
}

describe('normaliseEvent', () => {
  it('reads the classic IoT button payload', () => {
    expect(normaliseEvent(classic)).toEqual([
      { serial: 'G030JF0512345678', clickType: 'SINGLE', source: 'iot-button', batteryVoltageMv: 1705 },
    ]);
  });

  it('keeps the requestId and receivedAt the topic rule adds', () => {
    const [click] = normaliseEvent({ ...classic, requestId: 'b7d3-uuid', receivedAt: 1_700_000_000_123 });
    expect(click).toMatchObject({ requestId: 'b7d3-uuid', receivedAt: 1_700_000_000_123 });
  });

  it('reads the IoT 1-Click shape, its reported time and remaining life', () => {
    expect(normaliseEvent(oneClick)).toEqual([
      {
        serial: 'G030PM0123456789',
        clickType: 'DOUBLE',
        source: 'iot-1-click',
        remainingLifePercent: 5,
        receivedAt: Date.parse('2018-05-04T23:26:33.747Z'),
      },
    ]);
  });

  it('unwraps SNS records, one or many, with MessageId and Timestamp as id and time', () => {
    const clicks = normaliseEvent({ Records: [snsRecord(classic, 'a'), snsRecord(oneClick, 'b')] });
    expect(clicks).toHaveLength(2);
    expect(clicks[0]).toMatchObject({ serial: 'G030JF0512345678', source: 'sns', requestId: 'a', receivedAt: Date.parse('2024-01-02T03:04:05.000Z') });
    // The 1-Click reportedTime wins over the SNS timestamp: it is closer to the press.
    expect(clicks[1]).toMatchObject({ serial: 'G030PM0123456789', source: 'sns', requestId: 'b', receivedAt: Date.parse('2018-05-04T23:26:33.747Z') });
  });

  it('prefers a requestId inside the SNS message over the MessageId', () => {
    const [click] = normaliseEvent({ Records: [snsRecord({ ...classic, requestId: 'inner' })] });
    expect(click!.requestId).toBe('inner');
  });

  it('accepts lower-case click types', () => {
    expect(normaliseEvent({ ...classic, clickType: 'long' })[0]!.clickType).toBe('LONG');
  });

  it.each([
    [null, 'event', /not a JSON object/],
    ['SINGLE', 'event', /not a JSON object/],
    [{}, 'event', /neither serialNumber\/clickType .* nor Records/],
    [{ hello: 'world' }, 'event', /neither/],
    [{ clickType: 'SINGLE' }, 'serialNumber', /is missing/],
    [{ serialNumber: 'G030' }, 'clickType', /is missing/],
    [{ serialNumber: 'G030', clickType: 'TRIPLE' }, 'clickType', /not one of SINGLE, DOUBLE, LONG/],
    [{ serialNumber: 'a/b', clickType: 'SINGLE' }, 'serialNumber', /not a button serial/],
    [{ serialNumber: 42, clickType: 'SINGLE' }, 'serialNumber', /not a button serial/],
    [{ ...classic, receivedAt: 'yesterday' }, 'receivedAt', /not a timestamp/],
    [{ ...classic, requestId: '' }, 'requestId', /non-empty string/],
    [{ deviceInfo: { deviceId: 'G030' } }, 'deviceEvent', /missing/],
    [{ deviceInfo: { deviceId: 'G030' }, deviceEvent: {} }, 'deviceEvent.buttonClicked', /missing/],
    [{ deviceEvent: { buttonClicked: { clickType: 'SINGLE' } } }, 'deviceInfo', /missing/],
    [{ Records: [] }, 'Records', /non-empty array/],
    [{ Records: [{ s3: {} }] }, 'Records[0].Sns', /not an SNS record/],
    [{ Records: [{ Sns: { Message: 'not json' } }] }, 'Records[0].Sns.Message', /not JSON/],
    [{ Records: [{ Sns: { Message: '{"x":1}' } }] }, 'Records[0].Sns.Message', /neither serialNumber/],
    [{ Records: [snsRecord(classic), snsRecord({ serialNumber: 'G1' })] }, 'Records[1].Sns.Message.clickType', /missing/],
  ])('rejects %j, naming %s', (event, field, problem) => {
    const err = eventError(event);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(problem);
    expect(err.code).toBe('BUTTON_EVENT_INVALID');
  });
});

describe('parseTimestamp', () => {
  it('takes milliseconds, seconds, numeric strings and ISO strings', () => {
    expect(parseTimestamp(1_700_000_000_123, 'x')).toBe(1_700_000_000_123);
    expect(parseTimestamp(1_700_000_000, 'x')).toBe(1_700_000_000_000);
    expect(parseTimestamp('1700000000123', 'x')).toBe(1_700_000_000_123);
    expect(parseTimestamp('2023-11-14T22:13:20.123Z', 'x')).toBe(1_700_000_000_123);
    expect(() => parseTimestamp(-1, 'x')).toThrow(ButtonEventError);
  });
});

describe('parseBatteryMv', () => {
  it('reads the classic "1705mV" and plain numbers, and ignores anything else', () => {
    expect(parseBatteryMv('1705mV')).toBe(1705);
    expect(parseBatteryMv('1705')).toBe(1705);
    expect(parseBatteryMv(1650)).toBe(1650);
    expect(parseBatteryMv('low')).toBeUndefined();
    expect(parseBatteryMv(undefined)).toBeUndefined();
  });
});
