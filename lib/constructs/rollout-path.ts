import { Aws, Duration, Validations } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnTopicRule } from 'aws-cdk-lib/aws-iot';
import { SnsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { EventType, type Bucket } from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { rolloutFunctionEnvironment } from '../../core/jobs/config';
import type { RolloutSettings } from '../../core/jobs/rollout-config';
import { BundledFunction } from './bundled-function';
import { iotArn } from './arns';

export interface RolloutPathProps {
  readonly bucket: Bucket;
  /** Uploads under this prefix become jobs (disjoint from the shadow path's prefix). */
  readonly keyPrefix: string;
  /** The fleet every job targets — and the only targets the function may name: these things and these groups. */
  readonly thingNames: readonly string[];
  readonly thingGroups: readonly string[];
  readonly settings: RolloutSettings;
  /** The end of each roll-out (completed, aborted) is published here, and failed invocations. */
  readonly topic: ITopic;
  readonly tracing?: boolean;
}

/** Our job ids (core/jobs/job-document.ts `fileJobId`): the functions touch no other job. */
const JOB_IDS = 'sp-*';

/**
 * Roll-out mode: upload under `keyPrefix` → upload-to-job function → CreateJob for the fleet; IoT's
 * job events (completed, canceled) → topic rule → rollout-ended function → one SNS message naming
 * the failed devices. Job events are an account setting with no CloudFormation resource (the
 * stack's RolloutEventsCommand output turns them on). Devices download with their own credentials,
 * so the function may pass no role at all.
 */
export class RolloutPath extends Construct {
  readonly createJobs: BundledFunction;
  readonly notifyEnd: BundledFunction;

  constructor(scope: Construct, id: string, props: RolloutPathProps) {
    super(scope, id);
    const thingArns = props.thingNames.map((name) => iotArn(this, 'thing', name));
    const groupArns = props.thingGroups.map((name) => iotArn(this, 'thinggroup', name));
    const targets = [...thingArns, ...groupArns];
    const jobArn = iotArn(this, 'job', JOB_IDS);
    const environment = rolloutFunctionEnvironment({ targets, keyPrefix: props.keyPrefix, settings: props.settings, topicArn: props.topic.topicArn });

    this.createJobs = new BundledFunction(this, 'CreateJobs', {
      entry: 'lambda/upload-to-job.ts',
      description: 'S3 object created under the roll-out prefix: hash it and create an IoT Job for the fleet (things and thing groups)',
      memorySize: 1769,
      timeout: Duration.minutes(5),
      environment,
      tracing: props.tracing,
      async: { maxEventAge: Duration.hours(1), onFailure: new SnsDestination(props.topic) },
    });
    const filter = props.keyPrefix === '' ? [] : [{ prefix: props.keyPrefix }];
    props.bucket.addEventNotification(EventType.OBJECT_CREATED, new LambdaDestination(this.createJobs.fn), ...filter);
    const reason = 'Any uploaded release may need hashing: object-level read on the files bucket, limited to the roll-out prefix.';
    this.createJobs.grantObjectReads(props.bucket, props.keyPrefix, 'ReadReleases', reason);
    // CreateJob is authorised on the job and on each target: our job ids, the configured things and groups only.
    this.createJobs.fn.addToRolePolicy(new PolicyStatement({ sid: 'CreateJobsForTheFleet', actions: ['iot:CreateJob'], resources: [jobArn, ...targets] }));
    Validations.of(this.createJobs.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:job/${JOB_IDS}]`,
      reason: 'Job ids are made per upload (sp-<hash>): the function may create only jobs named so.',
    });

    this.notifyEnd = new BundledFunction(this, 'NotifyEnd', {
      entry: 'lambda/rollout-ended.ts',
      description: 'IoT job completed or canceled: name the failed devices and their codes, publish one SNS message',
      memorySize: 256,
      timeout: Duration.seconds(60),
      environment,
      tracing: props.tracing,
    });
    this.notifyEnd.fn.addToRolePolicy(new PolicyStatement({ sid: 'ListOurJobExecutions', actions: ['iot:ListJobExecutionsForJob'], resources: [jobArn] }));
    // DescribeJobExecution is authorised on the thing; group members are not known at synth time.
    this.notifyEnd.fn.addToRolePolicy(new PolicyStatement({ sid: 'ReadFailedExecutions', actions: ['iot:DescribeJobExecution'], resources: [iotArn(this, 'thing', '*')] }));
    Validations.of(this.notifyEnd.role).acknowledge(
      { id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:job/${JOB_IDS}]`, reason: 'Lists executions of our jobs only (sp-<hash>).' },
      { id: 'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:thing/*]', reason: "Reads a failed execution's status details; the groups' members change at run time, and DescribeJobExecution is read-only." },
    );

    const rule = new CfnTopicRule(this, 'JobEnded', {
      topicRulePayload: {
        description: 'IoT job events (completed, canceled) to the roll-out notifier',
        awsIotSqlVersion: '2016-03-23',
        sql: "SELECT * FROM '$aws/events/job/+/+' WHERE topic(5) = 'completed' OR topic(5) = 'canceled'",
        ruleDisabled: false,
        actions: [{ lambda: { functionArn: this.notifyEnd.fn.functionArn } }],
      },
    });
    this.notifyEnd.fn.addPermission('InvokeFromJobEventRule', { principal: new ServicePrincipal('iot.amazonaws.com'), sourceArn: rule.attrArn, sourceAccount: Aws.ACCOUNT_ID });
  }
}
