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

/** Click events made up locally (the `click` CLI, the sandbox's virtual button). */
export interface ClassicClickOptions {
  serial: string;
  clickType: ClickType;
  /** Millivolts; the classic button sends e.g. `"1705mV"`. */
  batteryMv?: number;
}

/** The classic IoT button's payload on `iotbutton/<serial>`, exactly as the button sends it. */
export function classicButtonPayload(o: ClassicClickOptions): { serialNumber: string; clickType: ClickType; batteryVoltage: string } {
  return { serialNumber: o.serial, clickType: o.clickType, batteryVoltage: `${o.batteryMv ?? 1705}mV` };
}

/** The payload as the topic rule hands it to the function: plus `requestId` and `receivedAt`. */
export function ruleEvent(
  o: ClassicClickOptions & { requestId: string; receivedAt: number },
): ReturnType<typeof classicButtonPayload> & { requestId: string; receivedAt: number } {
  return { ...classicButtonPayload(o), requestId: o.requestId, receivedAt: o.receivedAt };
}

/** The topic a button publishes on. */
export function buttonTopic(serial: string): string {
  return `iotbutton/${serial}`;
}
