/**
 * CloudWatch embedded metric format: one JSON log line that CloudWatch Logs turns into metrics
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 * Written here rather than with Powertools Metrics, which would add about 15 KiB to the button's
 * bundle (over its size target, see docs/deploy.md). Pure.
 */

/** The namespace the stack's alarms read (lib/constructs/alarms.ts). */
export const METRICS_NAMESPACE = 'Shadowplug';

/** Counts of one invocation; the line carries `service` as the only dimension. */
export function emfLine(service: string, counts: Readonly<Record<string, number>>, timestampMs: number): string {
  const names = Object.keys(counts);
  return JSON.stringify({
    _aws: {
      Timestamp: timestampMs,
      CloudWatchMetrics: [{ Namespace: METRICS_NAMESPACE, Dimensions: [['service']], Metrics: names.map((Name) => ({ Name, Unit: 'Count' })) }],
    },
    service,
    ...counts,
  });
}

/** The metric names each function emits, for its alarms. */
export const BUTTON_METRICS = { clicksFailed: 'ClicksFailed', clicksSkipped: 'ClicksSkipped' } as const;
export const OBJECT_METRICS = { shadowWritesFailed: 'ShadowWritesFailed' } as const;

/** The `service` field (log lines and metric dimension) of each function. */
export const SERVICES = { button: 'button-click', object: 'object-to-shadow', fanOut: 'fanout-worker' } as const;
