/**
 * Every shape a click arrives in → a list of `Click`s: the classic IoT button's payload (with or
 * without the `requestId`/`receivedAt` the topic rule adds), IoT 1-Click's, or either wrapped in
 * SNS records (whose MessageId and Timestamp stand in when the message has none). Anything else
 * throws `ButtonEventError` naming the missing or bad field. Pure.
 */
import { CLICK_TYPES, SERIAL_PATTERN, isClickType, type Click, type ClickType } from './click';
import { isObject } from '../util/guards';
import { ButtonEventError } from './errors';

type Obj = Record<string, unknown>;

function serialAt(value: unknown, field: string): string {
  if (value === undefined || value === null) throw new ButtonEventError(field, 'is missing');
  if (typeof value !== 'string' || !SERIAL_PATTERN.test(value)) {
    throw new ButtonEventError(field, `is not a button serial (letters, digits, . _ : -; got ${JSON.stringify(value)})`);
  }
  return value;
}

function clickTypeAt(value: unknown, field: string): ClickType {
  if (value === undefined || value === null) throw new ButtonEventError(field, 'is missing');
  const upper = typeof value === 'string' ? value.toUpperCase() : undefined;
  if (!isClickType(upper)) {
    throw new ButtonEventError(field, `is not one of ${CLICK_TYPES.join(', ')} (got ${JSON.stringify(value)})`);
  }
  return upper;
}

/**
 * A timestamp as epoch milliseconds: a number (IoT SQL `timestamp()` gives milliseconds; values
 * below 1e11 are taken as seconds), a numeric string, or an ISO 8601 string.
 */
export function parseTimestamp(value: unknown, field: string): number {
  const numeric = typeof value === 'number' || (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()));
  const ms = numeric ? Number(value) : typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms) || ms <= 0) throw new ButtonEventError(field, `is not a timestamp (got ${JSON.stringify(value)})`);
  return ms < 1e11 ? Math.round(ms * 1000) : Math.round(ms);
}

function requestIdAt(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
    throw new ButtonEventError(field, `is not a non-empty string of at most 256 characters (got ${JSON.stringify(value)})`);
  }
  return value;
}

/** `"1705mV"`, `"1705"` or `1705` → 1705. Anything else: undefined (a bad voltage never blocks a click). */
export function parseBatteryMv(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(mv)?\s*$/i.exec(value);
  return m ? Math.round(Number(m[1])) : undefined;
}

/** The optional rule-added fields, common to the classic and 1-Click shapes. */
function addDelivery(click: Click, event: Obj, prefix: string): void {
  if (event.requestId !== undefined) click.requestId = requestIdAt(event.requestId, `${prefix}requestId`);
  if (event.receivedAt !== undefined) click.receivedAt = parseTimestamp(event.receivedAt, `${prefix}receivedAt`);
}

function classicClick(event: Obj, prefix: string): Click {
  const click: Click = {
    serial: serialAt(event.serialNumber, `${prefix}serialNumber`),
    clickType: clickTypeAt(event.clickType, `${prefix}clickType`),
    source: 'iot-button',
  };
  const mv = parseBatteryMv(event.batteryVoltage);
  if (mv !== undefined) click.batteryVoltageMv = mv;
  addDelivery(click, event, prefix);
  return click;
}

function objectAt(value: unknown, field: string): Obj {
  if (!isObject(value)) throw new ButtonEventError(field, 'is missing or not an object');
  return value;
}

function oneClickClick(event: Obj, prefix: string): Click {
  const info = objectAt(event.deviceInfo, `${prefix}deviceInfo`);
  const clicked = objectAt(objectAt(event.deviceEvent, `${prefix}deviceEvent`).buttonClicked, `${prefix}deviceEvent.buttonClicked`);
  const click: Click = {
    serial: serialAt(info.deviceId, `${prefix}deviceInfo.deviceId`),
    clickType: clickTypeAt(clicked.clickType, `${prefix}deviceEvent.buttonClicked.clickType`),
    source: 'iot-1-click',
  };
  if (typeof info.remainingLife === 'number' && Number.isFinite(info.remainingLife)) {
    click.remainingLifePercent = info.remainingLife;
  }
  if (clicked.reportedTime !== undefined) {
    click.receivedAt = parseTimestamp(clicked.reportedTime, `${prefix}deviceEvent.buttonClicked.reportedTime`);
  }
  addDelivery(click, event, prefix);
  return click;
}

/** A classic or 1-Click payload (not SNS) at `prefix`. */
function directClick(event: Obj, prefix: string): Click {
  if ('deviceInfo' in event || 'deviceEvent' in event) return oneClickClick(event, prefix);
  if ('serialNumber' in event || 'clickType' in event) return classicClick(event, prefix);
  throw new ButtonEventError(
    prefix === '' ? 'event' : prefix.slice(0, -1),
    'has neither serialNumber/clickType (IoT button) nor deviceInfo/deviceEvent (IoT 1-Click)' +
      (prefix === '' ? ' nor Records[].Sns.Message (SNS)' : ''),
  );
}

function snsClicks(records: unknown): Click[] {
  if (!Array.isArray(records) || records.length === 0) throw new ButtonEventError('Records', 'is not a non-empty array');
  return records.map((record, i) => {
    const at = `Records[${i}]`;
    if (!isObject(record) || !isObject(record.Sns)) throw new ButtonEventError(`${at}.Sns`, 'is missing (not an SNS record)');
    const sns = record.Sns;
    if (typeof sns.Message !== 'string') throw new ButtonEventError(`${at}.Sns.Message`, 'is missing or not a string');
    let inner: unknown;
    try {
      inner = JSON.parse(sns.Message);
    } catch (err) {
      throw new ButtonEventError(`${at}.Sns.Message`, 'is not JSON', err);
    }
    if (!isObject(inner)) throw new ButtonEventError(`${at}.Sns.Message`, 'is not a JSON object');
    const click = directClick(inner, `${at}.Sns.Message.`);
    click.source = 'sns';
    // SNS redelivers a message with the same MessageId: a good dedupe key when the payload has none.
    if (click.requestId === undefined && typeof sns.MessageId === 'string' && sns.MessageId !== '') {
      click.requestId = sns.MessageId;
    }
    if (click.receivedAt === undefined && sns.Timestamp !== undefined) {
      click.receivedAt = parseTimestamp(sns.Timestamp, `${at}.Sns.Timestamp`);
    }
    return click;
  });
}

/** Every click in `event`; throws `ButtonEventError` (nothing half-parsed) if any part is not a click. */
export function normaliseEvent(event: unknown): Click[] {
  if (!isObject(event)) throw new ButtonEventError('event', `is not a JSON object (got ${event === null ? 'null' : typeof event})`);
  if ('Records' in event) return snsClicks(event.Records);
  return [directClick(event, '')];
}
