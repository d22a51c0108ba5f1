/** Given a click and the configuration: which targets and what action, or why nothing is done. Pure. */
import type { Click } from './click';
import { targetsFor, type ButtonConfig } from './config';
import { formatTarget, type PlugTarget } from './targets';

export type SkipReason = 'stale' | 'duplicate' | 'action-none' | 'no-target';

export type Plan =
  | { kind: 'skip'; reason: SkipReason; detail: string }
  | { kind: 'act'; action: 'toggle' | 'on' | 'off'; targets: PlugTarget[] };

export type ActPlan = Extract<Plan, { kind: 'act' }>;

/** `now`: epoch milliseconds; `duplicate`: this container already handled the click's requestId. */
export function decide(click: Click, config: ButtonConfig, ctx: { now: number; duplicate: boolean }): Plan {
  const age = click.receivedAt === undefined ? 0 : ctx.now - click.receivedAt;
  if (age > config.maxClickAgeSeconds * 1000) {
    return { kind: 'skip', reason: 'stale', detail: `click received ${Math.round(age / 1000)} s ago, over the ${config.maxClickAgeSeconds} s limit` };
  }
  if (ctx.duplicate) return { kind: 'skip', reason: 'duplicate', detail: `request ${click.requestId ?? '?'} was already handled` };
  const action = config.clickActions[click.clickType];
  if (action === 'none') return { kind: 'skip', reason: 'action-none', detail: `${click.clickType} clicks are configured to do nothing` };
  const targets = targetsFor(config, click.serial).filter((t, i, all) => all.findIndex((o) => formatTarget(o) === formatTarget(t)) === i);
  if (targets.length === 0) {
    return { kind: 'skip', reason: 'no-target', detail: `no plug is configured for button ${click.serial} and there is no default` };
  }
  return { kind: 'act', action, targets };
}

export interface BatteryReport {
  low: boolean;
  batteryVoltageMv?: number;
  remainingLifePercent?: number;
  /** The threshold that was crossed, e.g. `1300 mV` or `10 %`. */
  threshold?: string;
}

/** Whether the button's battery is low by the configured thresholds (0 disables a threshold). */
export function batteryReport(click: Click, config: ButtonConfig): BatteryReport {
  const report: BatteryReport = { low: false };
  const check = (field: 'batteryVoltageMv' | 'remainingLifePercent', value: number | undefined, limit: number, unit: string) => {
    if (value === undefined) return;
    report[field] = value;
    if (limit > 0 && value < limit) Object.assign(report, { low: true, threshold: `${limit} ${unit}` });
  };
  check('batteryVoltageMv', click.batteryVoltageMv, config.lowBatteryMillivolts, 'mV');
  check('remainingLifePercent', click.remainingLifePercent, config.lowBatteryPercent, '%');
  return report;
}
