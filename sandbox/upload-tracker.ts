/**
 * Follows each upload through the sandbox: object stored → hashed by the object Lambda → written
 * into shadows → verified by each device. The terminal's fleet summary and the dashboard's upload
 * panel both read it. Pure: fed SandboxEvents and a clock.
 */
import type { SandboxEvent } from './event-log';
import type { UploadStage, UploadView } from './dashboard/view';

/** An upload as the view shows it, with the devices behind each count kept as sets. */
interface Entry extends Omit<UploadView, 'shadows' | 'verified' | 'downloading' | 'errors'> {
  desired: Set<string>;
  verified: Set<string>;
  downloading: Set<string>;
  errors: Set<string>;
}

/** How many uploads are remembered (older ones drop off). */
export const TRACKED_UPLOADS = 20;

export class UploadTracker {
  private readonly entries: Entry[] = [];
  private nextId = 1;
  private readonly clock: () => number;

  constructor(options: { clock?: () => number } = {}) {
    this.clock = options.clock ?? Date.now;
  }

  /** Applies one event; returns the uploads it changed. */
  apply(event: SandboxEvent): UploadView[] {
    const changed = new Set<Entry>();
    const touch = (e: Entry | undefined) => e && changed.add(e);
    switch (event.type) {
      case 'upload':
        if (event.eventName.startsWith('ObjectCreated')) touch(this.start(event.bucket, event.key, event.size));
        break;
      case 'upload-failed':
        for (const e of this.active().filter((x) => event.key.split(', ').includes(x.key))) {
          e.message = event.message;
          if (/no retries left/.test(event.message)) this.finish(e, 'failed');
          touch(e);
        }
        break;
      case 'upload-ignored': {
        // Not one whose shadows were written: a later event of it (a signed release's companion,
        // a duplicate) that changes nothing does not undo that.
        const e = this.latest((x) => x.key === event.key && x.finishedAt === undefined && x.desired.size === 0);
        if (e) {
          e.message = event.message;
          this.finish(e, 'ignored');
          touch(e);
        }
        break;
      }
      case 'hashed':
        for (const e of this.active().filter((x) => x.url === event.url && x.hash === undefined)) {
          e.hash = event.hash;
          e.stage = 'hashed';
          touch(e);
        }
        break;
      case 'desired': {
        const e = this.latest((x) => x.url === event.url && (x.hash === undefined || x.hash === event.hash));
        if (e) {
          e.hash = event.hash;
          e.desired.add(event.thing);
          if (e.finishedAt === undefined) e.stage = 'shadows';
          touch(this.check(e));
        }
        break;
      }
      case 'shadows-written': {
        const e = this.latest((x) => x.key === event.key && (x.hash === undefined || x.hash === event.hash));
        if (e) {
          e.hash = event.hash;
          e.targets = event.things.length;
          for (const t of event.things) e.desired.add(t);
          if (e.finishedAt === undefined && e.stage !== 'shadows') e.stage = 'shadows';
          touch(this.check(e));
        }
        break;
      }
      case 'progress':
        for (const e of this.waitingFor(event.thing)) {
          e.downloading.add(event.thing);
          touch(e);
        }
        break;
      case 'device-error':
        for (const e of this.waitingFor(event.thing)) {
          e.errors.add(event.thing);
          e.downloading.delete(event.thing);
          touch(e);
        }
        break;
      case 'reported':
        for (const e of this.entries.filter((x) => x.url === event.url && x.hash === event.hash && x.desired.has(event.thing) && !x.verified.has(event.thing))) {
          e.verified.add(event.thing);
          e.downloading.delete(event.thing);
          e.errors.delete(event.thing);
          touch(this.check(e));
        }
        break;
      default:
        break;
    }
    return [...changed].map(view);
  }

  uploads(): UploadView[] {
    return this.entries.map(view);
  }

  private start(bucket: string, key: string, size: number): Entry {
    const entry: Entry = {
      id: this.nextId++,
      key,
      url: `s3://${bucket}/${key}`,
      size,
      stage: 'uploaded',
      desired: new Set(),
      verified: new Set(),
      downloading: new Set(),
      errors: new Set(),
      startedAt: this.clock(),
    };
    this.entries.push(entry);
    if (this.entries.length > TRACKED_UPLOADS) this.entries.shift();
    return entry;
  }

  private active(): Entry[] {
    return this.entries.filter((e) => e.finishedAt === undefined);
  }

  private latest(match: (e: Entry) => boolean): Entry | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) if (match(this.entries[i]!)) return this.entries[i];
    return undefined;
  }

  /** Unfinished uploads that went to `thing` and that it has not verified yet. */
  private waitingFor(thing: string): Entry[] {
    return this.active().filter((e) => e.desired.has(thing) && !e.verified.has(thing));
  }

  private check(e: Entry): Entry {
    if (e.finishedAt === undefined && e.targets !== undefined && e.verified.size >= e.targets) this.finish(e, 'verified');
    return e;
  }

  private finish(e: Entry, stage: UploadStage): void {
    e.stage = stage;
    e.finishedAt = this.clock();
    e.downloading.clear();
  }
}

function view({ desired, verified, downloading, errors, ...rest }: Entry): UploadView {
  return { ...rest, shadows: desired.size, verified: verified.size, downloading: downloading.size, errors: errors.size };
}
