/** The embedded-metric line CloudWatch turns into the metrics the alarms watch. */
import { describe, expect, it } from 'vitest';
import { emfLine, METRICS_NAMESPACE } from '../../../core/metrics/emf';

describe('emfLine', () => {
  it('declares each count in the Shadowplug namespace with the service as dimension', () => {
    const line = JSON.parse(emfLine('button-click', { ClicksFailed: 1, ClicksSkipped: 0 }, 1_700_000_000_000)) as Record<string, unknown>;
    expect(line).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [{ Namespace: METRICS_NAMESPACE, Dimensions: [['service']], Metrics: [{ Name: 'ClicksFailed', Unit: 'Count' }, { Name: 'ClicksSkipped', Unit: 'Count' }] }],
      },
      service: 'button-click',
      ClicksFailed: 1,
      ClicksSkipped: 0,
    });
  });

  it('is one line', () => {
    expect(emfLine('s', { A: 1 }, 0)).not.toContain('\n');
  });
});
