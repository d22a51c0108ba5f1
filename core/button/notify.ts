/** The owner's SNS notification of one click: which plugs, before and after, what failed and why, the battery. Pure. */
import type { ClickOutcome } from './outcome';
import type { TargetResult } from './execute';

export interface Notification {
  subject: string;
  message: string;
}

const onOff = (on: boolean | undefined): string => (on === undefined ? '?' : on ? 'on' : 'off');

function name(t: TargetResult): string {
  return t.alias !== undefined && t.alias !== '' ? `${t.alias} (${t.target})` : t.target;
}

function line(t: TargetResult): string {
  if (t.status === 'failed') {
    const cause = t.error?.cause as { code?: unknown; message?: unknown } | undefined;
    const code = typeof cause?.code === 'string' ? ` [${cause.code}]` : '';
    return `- ${name(t)}: FAILED${t.before === undefined ? '' : ` (was ${onOff(t.before)})`}: ${t.error?.message ?? 'unknown error'}${code}`;
  }
  if (t.status === 'unchanged') return `- ${name(t)}: already ${onOff(t.after)}`;
  if (t.status === 'superseded') {
    return `- ${name(t)}: superseded by a newer click (request ${t.supersededBy ?? '?'}) before the hub acted on this one; the plug follows that one (${onOff(t.after)})`;
  }
  return `- ${name(t)}: ${onOff(t.before)} -> ${onOff(t.after)}${t.confirmed === false ? ' (requested; not yet confirmed by the hub)' : ''}`;
}

/** SNS subjects: ASCII, no control characters, under 100 characters. */
export function snsSubject(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?').trim();
  return ascii.length <= 99 ? ascii : ascii.slice(0, 96) + '...';
}

const allSuperseded = (o: ClickOutcome): boolean => o.targets.length > 0 && o.targets.every((t) => t.status === 'superseded');

function headline(o: ClickOutcome): string {
  const first = o.targets[0];
  const who = o.targets.length === 1 && first ? (first.alias || first.target) : `${o.targets.length} plugs`;
  if (o.status === 'failed') return `${who}: ${o.clickType} click failed`;
  if (o.status === 'partial') return `${who}: ${o.clickType} click partly failed`;
  if (o.status === 'skipped') return `${o.clickType} click not acted on`;
  if (allSuperseded(o)) return `${who}: ${o.clickType} click superseded by a newer one`;
  return `${who} ${onOff(o.power)} (${o.clickType} click)`;
}

export function formatNotification(o: ClickOutcome): Notification {
  const lines: string[] = [];
  const superseded = allSuperseded(o);
  const verb =
    superseded ? 'superseded by a newer click' :
    o.status === 'done' ? `turned ${onOff(o.power)}` :
    o.status === 'partial' ? `partly turned ${onOff(o.power)}` :
    o.status === 'failed' ? 'failed' : `not acted on (${o.detail ?? o.reason ?? 'skipped'})`;
  lines.push(`${o.clickType} click on button ${o.serial} (${o.action}): ${verb}.`);
  for (const t of o.targets) lines.push(line(t));
  if (o.battery.low) {
    const level = o.battery.batteryVoltageMv !== undefined ? `${o.battery.batteryVoltageMv} mV` : `${o.battery.remainingLifePercent} % left`;
    lines.push(`Battery low: ${level} (warning below ${o.battery.threshold}). Replace the battery soon.`);
  }
  const meta = [`source ${o.source}`];
  if (o.requestId !== undefined) meta.push(`request ${o.requestId}`);
  if (o.receivedAt !== undefined) meta.push(`received ${new Date(o.receivedAt).toISOString()}`);
  meta.push(`${o.elapsedMs} ms`);
  lines.push('', meta.join(', '));
  const subject = (o.battery.low ? '[battery low] ' : '') + headline(o);
  return { subject: snsSubject(`shadowplug: ${subject}`), message: lines.join('\n') };
}
