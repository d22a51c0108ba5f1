import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, MetricFilter, type ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption, RedrivePermission } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BUTTON_METRICS, METRICS_NAMESPACE, OBJECT_METRICS, SERVICES } from '../../core/metrics/emf';

export interface AlarmsProps {
  readonly topic: ITopic;
  readonly buttonFunction: IFunction;
  readonly objectFunction: IFunction;
  /** Where the button topic rule writes the actions it could not run. */
  readonly ruleErrors: ILogGroup;
}

const PERIOD = Duration.minutes(5);

/** An alarm to the outcomes topic as soon as `metric` reaches 1 in a period; no data means nothing happened. */
function alarmOnAny(scope: Construct, id: string, metric: IMetric, description: string, topic: ITopic): void {
  const alarm = new Alarm(scope, id, {
    metric,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
    alarmDescription: description,
  });
  alarm.addAlarmAction(new SnsAction(topic));
}

/**
 * What the owner must hear about beyond each click's own message, on the outcomes topic: a
 * function failing (Errors), Lambda dropping queued events (AsyncEventsDropped), clicks that failed
 * or were skipped and shadow writes that failed (the functions' embedded metrics: the button
 * succeeds on a failed click by design, so Errors would stay 0), and the topic rule failing to
 * invoke the button at all (a metric filter on its error log group).
 */
export class Alarms extends Construct {
  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const alarm = (name: string, metric: IMetric, description: string) => alarmOnAny(this, name, metric, description, props.topic);
    const lambdaMetric = (fn: IFunction, metricName: string) =>
      new Metric({ namespace: 'AWS/Lambda', metricName, dimensionsMap: { FunctionName: fn.functionName }, statistic: 'Sum', period: PERIOD });
    const own = (service: string, metricName: string) =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service }, statistic: 'Sum', period: PERIOD });

    for (const [name, fn] of [['Button', props.buttonFunction], ['Object', props.objectFunction]] as const) {
      alarm(`${name}Errors`, lambdaMetric(fn, 'Errors'), `The ${name.toLowerCase()} function failed (Errors)`);
      alarm(`${name}AsyncEventsDropped`, lambdaMetric(fn, 'AsyncEventsDropped'), `Lambda dropped events queued for the ${name.toLowerCase()} function`);
    }
    alarm('ClicksFailed', own(SERVICES.button, BUTTON_METRICS.clicksFailed), 'A click could not switch its plug(s)');
    alarm('ClicksSkipped', own(SERVICES.button, BUTTON_METRICS.clicksSkipped), 'A click was not acted on (too old, a duplicate, or action none)');
    alarm('ShadowWritesFailed', own(SERVICES.object, OBJECT_METRICS.shadowWritesFailed), "An upload could not be written into a device's shadow");

    // Every record in the rule's error log is a click the button function never received.
    const ruleErrors = new MetricFilter(this, 'RuleErrorRecords', {
      logGroup: props.ruleErrors,
      filterPattern: FilterPattern.allEvents(),
      metricNamespace: METRICS_NAMESPACE,
      metricName: 'ButtonRuleErrors',
      metricValue: '1',
    });
    alarm('ButtonRuleErrors', ruleErrors.metric({ statistic: 'Sum', period: PERIOD }), 'The button topic rule could not run its action');
  }
}

/**
 * Where work that failed every retry waits to be replayed (`aws sqs start-message-move-task`,
 * docs/deploy.md): kept 14 days (SQS's maximum), encrypted, TLS only, and an alarm on the outcomes
 * topic as soon as one message is in it. `what` lands here, for the alarm's description.
 */
export class ReplayableQueue extends Construct {
  readonly queue: Queue;

  constructor(scope: Construct, id: string, props: { what: string; topic: ITopic }) {
    super(scope, id);
    // A dead-letter queue, declared as one (its messages may be moved back).
    this.queue = new Queue(this, 'Queue', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      redriveAllowPolicy: { redrivePermission: RedrivePermission.ALLOW_ALL },
    });
    const waiting = this.queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Sum' });
    alarmOnAny(this, 'NotEmpty', waiting, `${props.what} waits to be replayed (docs/deploy.md, "Replaying failed events")`, props.topic);
  }
}
