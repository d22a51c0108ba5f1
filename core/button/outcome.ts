/** What the handler returns (to Lambda, the sandbox and the `click` CLI) and notifies about. */
import type { ClickAction, ClickSource, ClickType } from './click';
import type { BatteryReport, SkipReason } from './decide';
import type { ButtonEventError } from './errors';
import type { TargetResult } from './execute';

export type ClickStatus = 'done' | 'partial' | 'failed' | 'skipped';

export interface ClickOutcome {
  serial: string;
  clickType: ClickType;
  source: ClickSource;
  requestId?: string;
  receivedAt?: number;
  action: ClickAction;
  status: ClickStatus;
  /** Why nothing was done (status `skipped`). */
  reason?: SkipReason;
  detail?: string;
  /** The power the targets were driven to. */
  power?: boolean;
  targets: TargetResult[];
  battery: BatteryReport;
  /** `off`: no topic configured, or nothing was attempted. */
  notification: 'sent' | 'failed' | 'off';
  elapsedMs: number;
}

export interface ButtonOutcome {
  /** `rejected`: the event was not a click (nothing touched); else the clicks' common status, `partial` when mixed. */
  status: ClickStatus | 'rejected';
  clicks: ClickOutcome[];
  /** Why the event was rejected. */
  error?: ButtonEventError;
  elapsedMs: number;
}

export function overallStatus(clicks: ClickOutcome[]): ClickStatus {
  const statuses = new Set(clicks.map((c) => c.status));
  return statuses.size === 0 ? 'skipped' : statuses.size === 1 ? clicks[0]!.status : 'partial';
}
