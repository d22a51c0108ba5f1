/**
 * Request ids seen by this warm container, so a redelivered click (async invocations may arrive
 * more than once) is not acted on twice. Bounded: the oldest ids are forgotten first. A cold
 * container starts empty; the stale-age check covers late redeliveries that land elsewhere.
 */
export class RequestIdMemory {
  private readonly seen = new Map<string, true>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  /** Records `id`; true if it had been recorded before (a duplicate). */
  remember(id: string): boolean {
    if (this.seen.has(id)) {
      // Refresh, so an id that keeps coming back stays remembered.
      this.seen.delete(id);
      this.seen.set(id, true);
      return true;
    }
    this.seen.set(id, true);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
    }
    return false;
  }

  get size(): number {
    return this.seen.size;
  }
}
