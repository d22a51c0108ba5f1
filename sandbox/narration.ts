/**
 * The sandbox's story as SandboxEvents: one emitter that falls silent once teardown begins (a
 * closing sandbox has nothing more to tell), and the pure translations of what the Lambdas saw
 * and returned into events.
 */
import { EventEmitter } from 'node:events';
import type { S3Event } from 'aws-lambda';
import type { ButtonOutcome } from '../core/button/outcome';
import type { Outcome } from '../core/s3/process-event';
import { reservedKeyReason } from '../core/release/companion';
import type { SandboxEvent } from './event-log';

export type Emit = (event: SandboxEvent) => void;

export class Narrator {
  /** `event` with a SandboxEvent. */
  readonly events = new EventEmitter();
  private silent = false;

  constructor() {
    this.events.setMaxListeners(0);
  }

  readonly emit: Emit = (event) => {
    if (!this.silent) this.events.emit('event', event);
  };

  silence(): void {
    this.silent = true;
  }
}

/** One `click-done` per click the button Lambda handled, and `click-failed` for an event it rejected. */
export function buttonOutcomeEvents(serial: string, outcome: ButtonOutcome): SandboxEvent[] {
  const out: SandboxEvent[] = [];
  for (const click of outcome.clicks) {
    const switched = click.targets.map((t) => `${t.alias ?? t.target} ${t.before ? 'ON' : 'OFF'}→${t.after ? 'ON' : 'OFF'}`);
    const summary =
      click.status === 'skipped'
        ? `skipped (${click.reason ?? ''}${click.detail ? `: ${click.detail}` : ''})`
        : click.status === 'failed'
          ? `failed: ${click.targets.map((t) => `${t.target}: ${t.error?.message ?? '?'}`).join('; ')}`
          : `${click.action}: ${switched.join(', ')}`;
    out.push({ type: 'click-done', serial: click.serial, clickType: click.clickType, summary, elapsedMs: click.elapsedMs });
  }
  if (outcome.status === 'rejected') out.push({ type: 'click-failed', serial, message: outcome.error?.message ?? 'rejected' });
  return out;
}

/** One `upload` per record of a bucket notification, with the key decoded as S3 encodes it. */
export function uploadEvents(event: S3Event): SandboxEvent[] {
  return event.Records.filter((r) => !isReleaseBookkeeping(recordKey(r))).map((r) => ({
    type: 'upload',
    bucket: r.s3.bucket.name,
    key: recordKey(r),
    size: r.s3.object.size ?? 0,
    eventName: r.eventName,
  }));
}

const recordKey = (r: S3Event['Records'][number]): string => decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '));

/** A signed release's companion or counter object: part of publishing its key, not an upload of its own. */
const isReleaseBookkeeping = (key: string): boolean => reservedKeyReason(key) !== undefined;

/**
 * `shadows-written` for every object the Lambda wrote into shadows (how many devices an upload
 * goes to), and `upload-ignored` for every record it skipped or applied without changing a shadow.
 */
export function objectOutcomeEvents(outcome: Outcome): SandboxEvent[] {
  const out: SandboxEvent[] = [];
  for (const record of outcome.records) {
    if (record.status === 'applied' && record.hash !== undefined) {
      const things = record.things.filter((t) => t.result === 'written').map((t) => t.thing);
      if (things.length > 0) out.push({ type: 'shadows-written', key: record.key, hash: record.hash, things });
    }
    // Being published: the companion's event carries it on.
    if (record.status === 'skipped' && record.reason === 'release-pending') out.push({ type: 'release-pending', key: record.key });
    else if (record.status === 'skipped') {
      out.push({ type: 'upload-ignored', key: record.key, message: `${record.reason}: ${record.detail}` });
    } else if (record.status === 'applied' && !record.things.some((t) => t.result === 'written' || t.result === 'cleared')) {
      out.push({ type: 'upload-ignored', key: record.key, message: record.things.map((t) => `${t.thing}: ${t.result}`).join(', ') });
    }
  }
  return out;
}

/** The object Lambda threw: says whether and when Lambda will retry. */
export function uploadFailedEvent(event: S3Event, message: string, retryInMs: number | undefined): SandboxEvent {
  const keys = event.Records.map((r) => r.s3.object.key).join(', ');
  return { type: 'upload-failed', key: keys, message: `${message}${retryInMs !== undefined ? ` (retry in ${retryInMs} ms)` : ' (no retries left)'}` };
}
