/**
 * `reported.agent`: what runs on the device (shadowplug version, Node version, platform, when it
 * started), so whoever reads the shadow sees what runs where. Reported on every connect when the
 * shadow says otherwise.
 */
import type { Logger } from '../core/logger';
import type { PropertyView, ShadowCapability } from './shadow-capability';
import { isObject, type Json } from '../core/shadow/json';
import { AGENT_INFO_PROPERTY } from '../core/s3/settings';

export interface AgentInfo {
  version: string;
  /** `process.version`, e.g. v20.19.0. */
  node: string;
  /** `<os>-<arch>`, e.g. linux-arm64. */
  platform: string;
  /** ISO 8601. */
  startedAt: string;
}

export function agentInfo(from: { version: string; node: string; platform: string; arch: string; startedAt: Date }): AgentInfo {
  return { version: from.version, node: from.node, platform: `${from.platform}-${from.arch}`, startedAt: from.startedAt.toISOString() };
}

/** True when `reported` already says everything `info` says. */
export function reportsInfo(reported: Json | undefined, info: AgentInfo): boolean {
  return isObject(reported) && (Object.keys(info) as (keyof AgentInfo)[]).every((k) => reported[k] === info[k]);
}

export class AgentInfoCapability implements ShadowCapability {
  readonly property = AGENT_INFO_PROPERTY;
  private reporting = false;

  constructor(
    private readonly info: AgentInfo,
    private readonly reporter: { report(property: string, value: Json): Promise<void> },
    private readonly logger: Logger,
  ) {}

  onShadow(view: PropertyView): void {
    if (this.reporting || reportsInfo(view.reported, this.info)) return;
    this.reporting = true;
    this.reporter
      .report(this.property, { ...this.info })
      // Not retried here: the next connect's `get` calls onShadow again.
      .catch((err: unknown) => this.logger.debug('could not report agent info yet', { err }))
      .finally(() => (this.reporting = false));
  }
}
