/**
 * The decision: given a click and the configuration, which targets and what action — or why
 * nothing is done. Pure; how the action is carried out (through the plug's shadow, or straight
 * to the plug) is the driver's business.
 */
import type { Click } from './click';
import { targetsFor, type ButtonConfig } from './config';
import { formatTarget, type PlugTarget } from './targets';

export type SkipReason = 'stale' | 'duplicate' | 'action-none' | 'no-target';

export type Plan =
  | { kind: 'skip'; reason: SkipReason; detail: string }
  | { kind: 'act'; action: 'toggle' | 'on' | 'off'; targets: PlugTarget[] };

export type ActPlan = Extract<Plan, { kind: 'act' }>;

export interface DecideContext {
  /** Epoch milliseconds now. */
  now: number;
  /** True when this click's requestId was already handled by this container. */
  duplicate: boolean;
}

export function decide(click: Click, config: ButtonConfig, ctx: DecideContext): Plan {
  if (click.receivedAt !== undefined) {
    const age = ctx.now - click.receivedAt;
    if (age > config.maxClickAgeSeconds * 1000) {
      return {
        kind: 'skip',
        reason: 'stale',
        detail: `click received ${Math.round(age / 1000)} s ago, over the ${config.maxClickAgeSeconds} s limit`,
      };
    }
  }
  if (ctx.duplicate) {
    return { kind: 'skip', reason: 'duplicate', detail: `request ${click.requestId ?? '?'} was already handled` };
  }
  const action = config.clickActions[click.clickType];
  if (action === 'none') {
    return { kind: 'skip', reason: 'action-none', detail: `${click.clickType} clicks are configured to do nothing` };
  }
  const seen = new Set<string>();
  const targets = targetsFor(config, click.serial).filter((t) => {
    const key = formatTarget(t);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
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
  if (click.batteryVoltageMv !== undefined) {
    report.batteryVoltageMv = click.batteryVoltageMv;
    if (config.lowBatteryMillivolts > 0 && click.batteryVoltageMv < config.lowBatteryMillivolts) {
      report.low = true;
      report.threshold = `${config.lowBatteryMillivolts} mV`;
    }
  }
  if (click.remainingLifePercent !== undefined) {
    report.remainingLifePercent = click.remainingLifePercent;
    if (config.lowBatteryPercent > 0 && click.remainingLifePercent < config.lowBatteryPercent) {
      report.low = true;
      report.threshold = `${config.lowBatteryPercent} %`;
    }
  }
  return report;
}
