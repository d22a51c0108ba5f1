/**
 * CloudWatch embedded metric format: one JSON log line that CloudWatch Logs turns into metrics
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html);
 * written here because Powertools Metrics would not fit the button bundle's size target. Pure.
 */

/** The namespace the stack's alarms read. */
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
