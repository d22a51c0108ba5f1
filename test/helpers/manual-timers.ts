/** Timers a test fires by hand (`tick()`), for the agent's plug polling. */
import type { Timers } from '../../agent/plug-relay';

export class ManualTimers implements Timers {
  private readonly jobs = new Set<() => void>();
  every(_ms: number, fn: () => void): { cancel(): void } {
    this.jobs.add(fn);
    return { cancel: () => this.jobs.delete(fn) };
  }
  tick(): void {
    for (const fn of this.jobs) fn();
  }
}
