/**
 * Turns model changes into messages for every connected page, in batches (an upload to 200 devices
 * is thousands of events; a page needs ten states a second), re-reading changed shadows once per batch.
 */
import type { SandboxEvent } from '../event-log';
import type { DashboardModel } from './model';
import type { RolloutView, ServerMessage, TimelineEntry, UploadView } from './view';

/** Changes are sent at most this often. */
export const FLUSH_MS = 100;

export class Broadcaster {
  private readonly listeners = new Set<(m: ServerMessage) => void>();
  private readonly dirty = new Set<string>();
  private readonly reread = new Set<string>();
  private readonly uploads = new Map<number, UploadView>();
  private readonly rollouts = new Map<string, RolloutView>();
  private lines: TimelineEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly model: DashboardModel,
    private readonly readShadow: (thing: string) => Promise<unknown>,
  ) {}

  subscribe(listener: (m: ServerMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sent at once (the plug changes rarely and a person is waiting for it). */
  send(message: ServerMessage): void {
    for (const l of this.listeners) l(message);
  }

  apply(event: SandboxEvent): void {
    const changes = this.model.apply(event);
    changes.devices.forEach((t) => this.dirty.add(t));
    changes.reread.forEach((t) => this.reread.add(t));
    // A plug's hub coming or going is shown at once, like its shadow (a person is waiting for it).
    for (const plug of changes.plugs) this.send({ kind: 'plug-shadow', plug });
    this.lines.push(...changes.timeline);
    for (const upload of changes.uploads) this.uploads.set(upload.id, upload);
    for (const rollout of changes.rollouts) this.rollouts.set(rollout.jobId, rollout);
    if (!this.closed) this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.listeners.clear();
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    for (const thing of [...this.reread]) {
      this.reread.delete(thing);
      if (this.model.applyShadow(thing, await this.readShadow(thing).catch(() => undefined))) this.dirty.add(thing);
    }
    if (this.closed) return;
    if (this.dirty.size > 0) {
      this.send({ kind: 'devices', devices: [...this.dirty].map((t) => this.model.device(t)!), fleet: this.model.fleet() });
      this.dirty.clear();
    }
    for (const upload of this.uploads.values()) this.send({ kind: 'upload', upload });
    this.uploads.clear();
    for (const rollout of this.rollouts.values()) this.send({ kind: 'rollout', rollout });
    this.rollouts.clear();
    if (this.lines.length > 0) {
      this.send({ kind: 'timeline', entries: this.lines });
      this.lines = [];
    }
  }
}
