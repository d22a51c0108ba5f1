import { describe, expect, it } from 'vitest';
import { DashboardModel } from '../../../sandbox/dashboard/model';

const things = ['d1', 'd2', 'd3', 'd4'];
const model = () => new DashboardModel({ header: { bucket: 'b', buttonSerial: 'G030', buttonTopic: 'iotbutton/G030', agents: 'in-process' }, things, plug: { alias: 'lamp' } as never, property: 's3', clock: () => 0 });

describe('the dashboard roll-outs', () => {
  it('follows a roll-out through its waves to an abort, with the failed devices and why', () => {
    const m = model();
    m.apply({ type: 'rollout-created', jobId: 'sp-1', key: 'fw.bin', hash: 'h', targets: 4 });
    m.apply({ type: 'rollout-wave', jobId: 'sp-1', minute: 0, things: ['d1', 'd2'] });
    m.apply({ type: 'rollout-execution', jobId: 'sp-1', thing: 'd1', status: 'SUCCEEDED' });
    const changes = m.apply({ type: 'rollout-execution', jobId: 'sp-1', thing: 'd2', status: 'FAILED', code: 'OBJECT_TOO_LARGE' });
    expect(changes.rollouts[0]).toMatchObject({ succeeded: 1, failed: 1, queued: 0, notNotified: 2, status: 'IN_PROGRESS' });
    m.apply({ type: 'rollout-ended', jobId: 'sp-1', status: 'CANCELED', succeeded: 1, failed: 1, canceled: 0, notNotified: 2, reason: 'abortConfig: 1 of 2' });
    expect(m.snapshot().rollouts).toEqual([
      { jobId: 'sp-1', key: 'fw.bin', hash: 'h', targets: 4, status: 'CANCELED', waves: [{ minute: 0, count: 2 }], succeeded: 1, failed: 1, inProgress: 0, queued: 0, notNotified: 2, reason: 'abortConfig: 1 of 2', failures: [{ thing: 'd2', code: 'OBJECT_TOO_LARGE' }] },
    ]);
    expect(m.snapshot().timeline.map((t) => t.text).at(-1)).toContain('ABORTED');
  });

  it('has none on the shadow path', () => {
    const m = model();
    expect(m.apply({ type: 'upload', bucket: 'b', key: 'k', size: 1, eventName: 'ObjectCreated:Put' }).rollouts).toEqual([]);
    expect(m.snapshot().rollouts).toEqual([]);
  });
});
