/** Click events made up locally (the `click` CLI, the sandbox's virtual button). Pure. */
import type { ClickType } from './click';

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
