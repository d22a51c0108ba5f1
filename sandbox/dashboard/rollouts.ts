/** The dashboard's roll-outs, kept from the `rollout-*` events: waves, devices by status, the end and why. Pure. */
import type { SandboxEvent } from '../event-log';
import type { RolloutView } from './view';

const FAILED = new Set(['FAILED', 'REJECTED', 'TIMED_OUT']);

/** Roll-outs kept (and sent to a page that connects). */
const KEPT = 10;

export class RolloutTracker {
  private readonly rollouts = new Map<string, RolloutView & { statuses: Map<string, string> }>();

  /** The roll-out `event` moved on, if any. */
  apply(event: SandboxEvent): RolloutView | undefined {
    if (event.type === 'rollout-created') {
      this.rollouts.set(event.jobId, { jobId: event.jobId, key: event.key, hash: event.hash, targets: event.targets, status: 'IN_PROGRESS', waves: [], succeeded: 0, failed: 0, inProgress: 0, queued: 0, notNotified: event.targets, failures: [], statuses: new Map() });
      while (this.rollouts.size > KEPT) this.rollouts.delete(this.rollouts.keys().next().value!);
    }
    if (!('jobId' in event)) return undefined;
    const r = this.rollouts.get(event.jobId);
    if (!r) return undefined;
    if (event.type === 'rollout-wave') {
      r.waves.push({ minute: event.minute, count: event.things.length });
      for (const t of event.things) r.statuses.set(t, 'QUEUED');
    } else if (event.type === 'rollout-execution') {
      r.statuses.set(event.thing, event.status);
      if (FAILED.has(event.status)) r.failures.push({ thing: event.thing, ...(event.code ? { code: event.code } : {}) });
    } else if (event.type === 'rollout-ended') {
      r.status = event.status === 'COMPLETED' ? 'COMPLETED' : 'CANCELED';
      if (event.reason) r.reason = event.reason;
    }
    this.count(r);
    return this.view(r);
  }

  list(): RolloutView[] {
    return [...this.rollouts.values()].map((r) => this.view(r));
  }

  private count(r: RolloutView & { statuses: Map<string, string> }): void {
    const all = [...r.statuses.values()];
    r.succeeded = all.filter((s) => s === 'SUCCEEDED').length;
    r.failed = all.filter((s) => FAILED.has(s)).length;
    r.inProgress = all.filter((s) => s === 'IN_PROGRESS').length;
    r.queued = all.filter((s) => s === 'QUEUED').length;
    r.notNotified = r.targets - r.statuses.size;
  }

  private view(r: RolloutView & { statuses: Map<string, string> }): RolloutView {
    const { statuses: _s, ...view } = r;
    return { ...view, waves: [...view.waves], failures: [...view.failures] };
  }
}
