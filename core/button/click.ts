/** The vocabulary of a click, shared by event parsing, configuration and the decision. */
export const CLICK_TYPES = ['SINGLE', 'DOUBLE', 'LONG'] as const;
export type ClickType = (typeof CLICK_TYPES)[number];

/** What a click does to its targets. `none` ignores the click (logged, not acted on). */
export const CLICK_ACTIONS = ['toggle', 'on', 'off', 'none'] as const;
export type ClickAction = (typeof CLICK_ACTIONS)[number];

/** The event shape a click came in, kept for logs. */
export type ClickSource = 'iot-button' | 'iot-1-click' | 'sns';

/** One button press, whatever shape of event carried it. */
export interface Click {
  serial: string;
  clickType: ClickType;
  source: ClickSource;
  /** Battery voltage in millivolts (classic button's `batteryVoltage: "1705mV"`). */
  batteryVoltageMv?: number;
  /** Remaining battery life in percent (IoT 1-Click's `deviceInfo.remainingLife`). */
  remainingLifePercent?: number;
  /** A unique id of this delivery (rule SQL `newuuid()`, or the SNS MessageId). */
  requestId?: string;
  /** When the click was received or reported, epoch milliseconds. */
  receivedAt?: number;
}

/** Button serials and 1-Click device ids: letters, digits and a few separators. */
export const SERIAL_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export function isClickType(value: unknown): value is ClickType {
  return typeof value === 'string' && (CLICK_TYPES as readonly string[]).includes(value);
}

export function isClickAction(value: unknown): value is ClickAction {
  return typeof value === 'string' && (CLICK_ACTIONS as readonly string[]).includes(value);
}
