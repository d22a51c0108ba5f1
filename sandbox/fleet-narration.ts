/**
 * Which events become lines for a person (terminal, dashboard timeline). One device: every step.
 * A fleet: an upload's per-device steps fold into one `fleet` line at most every second and a last
 * one when all have verified; device errors keep their own line, once per thing and message. Pure.
 */
import { formatEvent, printable, short, type SandboxEvent } from './event-log';
import type { TimelineEntry, UploadView } from './dashboard/view';
import { UploadTracker } from './upload-tracker';

/** Fleets larger than this get summary lines instead of a line per device step. */
export const SUMMARISE_ABOVE = 3;
/** At most one line per thing (small fleets) or per upload (summaries) this often while downloading. */
export const PROGRESS_EVERY_MS = 1_000;

const PER_DEVICE_STEPS = new Set<SandboxEvent['type']>(['desired', 'progress', 'installed', 'reported']);

export type NarrationLine = Pick<TimelineEntry, 'kind' | 'text' | 'error'>;

/**
 * Drops repeats: an agent retrying with backoff repeats its error (said once per thing until it
 * changes); a download reports often (with `throttleProgress`, one line per thing per second).
 */
export class RepeatFilter {
  private readonly lastProgress = new Map<string, number>();
  private readonly lastError = new Map<string, string>();

  constructor(
    private readonly clock: () => number,
    private readonly throttleProgress: boolean,
  ) {}

  wanted(event: SandboxEvent): boolean {
    if (event.type === 'device-error') {
      if (this.lastError.get(event.thing) === event.message) return false;
      this.lastError.set(event.thing, event.message);
    } else if (event.type === 'installed') {
      this.lastError.delete(event.thing);
    } else if (event.type === 'progress' && this.throttleProgress) {
      const now = this.clock();
      const done = event.total !== undefined && event.bytes >= event.total;
      if (!done && now - (this.lastProgress.get(event.thing) ?? -Infinity) < PROGRESS_EVERY_MS) return false;
      this.lastProgress.set(event.thing, now);
    }
    return true;
  }
}

export class FleetNarration {
  readonly tracker: UploadTracker;
  private readonly summarise: boolean;
  private readonly clock: () => number;
  private readonly cwd: string | undefined;
  private readonly repeats: RepeatFilter;
  private readonly lastSummary = new Map<number, number>();

  constructor(options: { devices: number; clock?: () => number; cwd?: string; tracker?: UploadTracker }) {
    this.clock = options.clock ?? Date.now;
    this.tracker = options.tracker ?? new UploadTracker({ clock: this.clock });
    this.summarise = options.devices > SUMMARISE_ABOVE;
    this.cwd = options.cwd;
    this.repeats = new RepeatFilter(this.clock, !this.summarise);
  }

  /** The lines `event` adds (often none). */
  lines(event: SandboxEvent): NarrationLine[] {
    return this.narrate(event).lines;
  }

  /** The lines `event` adds, and the uploads it moved on (it feeds the upload tracker). */
  narrate(event: SandboxEvent): { lines: NarrationLine[]; uploads: UploadView[] } {
    const uploads = this.tracker.apply(event);
    return { lines: this.linesFor(event, uploads), uploads };
  }

  private linesFor(event: SandboxEvent, changed: UploadView[]): NarrationLine[] {
    if (!this.repeats.wanted(event)) return [];
    const out: NarrationLine[] = [];
    // One device: its `desired` line already says what `shadows-written` would.
    const own = this.summarise ? !PER_DEVICE_STEPS.has(event.type) : event.type !== 'shadows-written';
    if (own) {
      out.push({ kind: event.type, text: formatEvent(event, this.cwd), error: isError(event) });
    }
    if (this.summarise) for (const upload of changed) out.push(...this.summary(upload, event));
    return out;
  }

  private summary(upload: UploadView, event: SandboxEvent): NarrationLine[] {
    const finished = upload.stage === 'verified';
    // A device may verify before the Lambda has written the last shadow: then shadows-written finishes it.
    const steps = finished ? ['progress', 'reported', 'device-error', 'shadows-written'] : ['progress', 'reported', 'device-error'];
    if (upload.hash === undefined || !steps.includes(event.type)) return [];
    const now = this.clock();
    if (!finished && now - (this.lastSummary.get(upload.id) ?? -Infinity) < PROGRESS_EVERY_MS) return [];
    this.lastSummary.set(upload.id, now);
    if (finished) this.lastSummary.delete(upload.id);
    return [{ kind: 'fleet', text: formatUploadSummary(upload), error: false }];
  }
}

function isError(event: SandboxEvent): boolean {
  return event.type === 'device-error' || event.type === 'upload-failed' || event.type === 'click-failed';
}

/** `fleet    s3://b/k sha256 1a2b…: 12/20 verified, 5 downloading, 1 error` */
export function formatUploadSummary(u: UploadView): string {
  const head = `fleet    ${printable(u.url)}${u.hash ? ` sha256 ${short(u.hash)}` : ''}:`;
  const of = u.targets ?? u.shadows;
  if (u.stage === 'verified') {
    const seconds = ((u.finishedAt ?? u.startedAt) - u.startedAt) / 1000;
    return `${head} ${u.verified}/${of} devices verified in ${seconds.toFixed(2)} s`;
  }
  const parts = [`${u.verified}/${of} verified`];
  if (u.downloading > 0) parts.push(`${u.downloading} downloading`);
  if (u.errors > 0) parts.push(`${u.errors} error${u.errors === 1 ? '' : 's'}`);
  return `${head} ${parts.join(', ')}`;
}
