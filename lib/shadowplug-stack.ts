import { Aws, type CfnElement, CfnOutput, Duration, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Alarms } from './constructs/alarms';
import { ButtonPath } from './constructs/button-path';
import { plugShadowName } from '../core/plug-relay/contract';
import { DeviceIdentity } from './constructs/device-identity';
import { FilePath } from './constructs/file-path';
import { FanOut } from './constructs/fan-out';
import { envName } from '../core/settings/schema';
import { fanOutEnvironment } from '../core/fleet/settings';
import { acknowledgeGuardFindings } from './constructs/guard-acknowledgements';
import { IotDataEndpoint } from './constructs/iot-data-endpoint';
import { Notifications } from './constructs/notifications';
import { ReleaseSigningKey } from './constructs/release-signing-key';
import { RolloutPath } from './constructs/rollout-path';
import type { StackSettings } from './context';
import { buttonFunction, objectEnvironment } from './function-settings';

/** The whole system in one stack, environment-agnostic so it synthesises offline. */
export class ShadowplugStack extends Stack {
  readonly notifications: Notifications;
  readonly buttonPath: ButtonPath;
  readonly filePath: FilePath;
  readonly devices: DeviceIdentity;
  readonly dataEndpoint: IotDataEndpoint;
  /** With thing groups only: the queue, worker and dead-letter queue of large uploads. */
  readonly fanOut?: FanOut;
  /** With releasePublisher only: the KMS key releases are signed with. */
  readonly releaseSigningKey?: ReleaseSigningKey;

  constructor(scope: Construct, id: string, props: StackProps & { settings: StackSettings }) {
    super(scope, id, props);
    const { settings } = props;

    this.notifications = new Notifications(this, 'Notifications', { notifyEmail: settings.notifyEmail });

    // For the shadow writes (files, and plugs in relay mode).
    this.dataEndpoint = new IotDataEndpoint(this, 'IotDataEndpoint');

    const button = buttonFunction(settings, this.notifications.topic.topicArn, this.dataEndpoint.url);
    this.buttonPath = new ButtonPath(this, 'ButtonPath', {
      plugShadows: settings.plugMode === 'relay' ? settings.plugs.map((p) => ({ thing: p.hub, shadowName: plugShadowName(p.id) })) : [],
      topicFilter: settings.buttonTopicFilter,
      environment: button.environment,
      timeout: Duration.seconds(button.timeoutSeconds),
      maxEventAge: Duration.seconds(button.maxEventAgeSeconds),
      topic: this.notifications.topic,
      tracing: settings.tracing,
      ...(settings.plugCredentialsSecret !== undefined ? { credentialsSecret: settings.plugCredentialsSecret } : {}),
    });

    const thingGroups = settings.thingGroups ?? [];
    const groups = thingGroups.length > 0;
    this.filePath = new FilePath(this, 'FilePath', {
      thingNames: settings.thingNames,
      anyThing: groups,
      shadowName: settings.shadowName,
      keyPrefix: settings.keyPrefix,
      environment: objectEnvironment(settings, this.dataEndpoint.url),
      topic: this.notifications.topic,
      tracing: settings.tracing,
    });

    // Past the threshold, a fleet named by thing groups gets batches on a queue and a rate-limited worker.
    if (groups) this.fanOut = this.addFanOut(settings, thingGroups);

    this.devices = new DeviceIdentity(this, 'Devices', {
      thingNames: settings.thingNames,
      shadowName: settings.shadowName,
      bucket: this.filePath.bucket,
      keyPrefix: settings.keyPrefix,
      scopeObjectsPerThing: settings.scopeObjectsPerThing,
      credentialDurationSeconds: settings.credentialDurationSeconds,
      certificates: settings.certificates,
      plugShadows: settings.plugMode === 'relay',
      ...(settings.rollout ? { rolloutPrefix: settings.rollout.keyPrefix } : {}),
    });

    // Roll-out mode: uploads under its prefix become IoT Jobs for the same fleet (things and groups).
    if (settings.rollout) this.addRolloutPath(settings, settings.rollout, groups);

    if (settings.releasePublisher !== undefined) this.releaseSigningKey = new ReleaseSigningKey(this, 'ReleaseSigning', { publisherArn: settings.releasePublisher });

    // Outcomes and failed invocations (the S3 function's failed events go to a queue, to be replayed).
    this.notifications.grantPublish(this.buttonPath.handler.role);

    new Alarms(this, 'Alarms', {
      topic: this.notifications.topic,
      buttonFunction: this.buttonPath.handler.fn,
      objectFunction: this.filePath.handler.fn,
      ruleErrors: this.buttonPath.ruleErrors,
    });

    this.addOutputs(settings);
    acknowledgeGuardFindings(this, this.filePath.accessLogs.node.defaultChild as CfnElement);
  }

  private addFanOut(settings: StackSettings, thingGroups: string[]): FanOut {
    const fanOut = new FanOut(this, 'FanOut', {
      shadowName: settings.shadowName,
      environment: fanOutEnvironment({ writesPerSecond: settings.fanOutWritesPerSecond, shadowProperty: settings.shadowProperty, shadowName: settings.shadowName, iotDataEndpoint: this.dataEndpoint.url }),
      env: { progressBucket: envName('progressBucket'), topicArn: envName('snsTopicArn'), maxReceiveCount: envName('maxReceiveCount') },
      topic: this.notifications.topic,
      accessLogs: this.filePath.accessLogs,
      tracing: settings.tracing,
    });
    fanOut.grantObjectFunction(this.filePath.handler, thingGroups);
    // A token: set after the environment was built and checked.
    this.filePath.handler.fn.addEnvironment(envName('fanOutQueueUrl'), fanOut.queue.queueUrl);
    this.notifications.grantPublish(fanOut.worker.role);
    return fanOut;
  }

  private addRolloutPath(settings: StackSettings, rollout: NonNullable<StackSettings['rollout']>, groups: boolean): void {
    const rolloutPath = new RolloutPath(this, 'RolloutPath', {
      bucket: this.filePath.bucket,
      keyPrefix: rollout.keyPrefix,
      // A job completes only when every target has: the default thing, when groups name the
      // fleet and no thing was named, is a placeholder no device may ever run as.
      thingNames: groups && settings.defaultThing ? [] : settings.thingNames,
      thingGroups: settings.thingGroups ?? [],
      settings: rollout.settings,
      topic: this.notifications.topic,
      tracing: settings.tracing,
    });
    this.notifications.grantPublish(rolloutPath.notifyEnd.role);
    this.notifications.grantPublish(rolloutPath.createJobs.role);
  }

  /** What a person needs next: names to upload to and subscribe to, and the device's command line. */
  private addOutputs(settings: StackSettings): void {
    new CfnOutput(this, 'BucketName', {
      description: 'Upload files here (aws s3 cp FILE s3://BUCKET/KEY)',
      value: this.filePath.bucket.bucketName,
    });
    new CfnOutput(this, 'ThingNames', { description: 'The IoT things (devices) that receive files', value: settings.thingNames.join(',') });
    new CfnOutput(this, 'RoleAlias', { description: 'IoT role alias devices get credentials through', value: this.devices.roleAlias.ref });
    new CfnOutput(this, 'DevicePolicyName', { description: 'IoT policy to attach to each device certificate', value: this.devices.policy.ref });
    new CfnOutput(this, 'IotDataEndpointAddress', { description: "The account's IoT data endpoint (MQTT and shadows)", value: this.dataEndpoint.host });
    new CfnOutput(this, 'FailedEventsQueueArn', { description: 'Upload events the S3 function could not handle (docs/deploy.md, "Replaying failed events")', value: this.filePath.failedEvents.queue.queueArn });
    new CfnOutput(this, 'ReplayQueueArn', { description: 'Move failed events here to run them again', value: this.filePath.replay.queueArn });
    if (this.fanOut) new CfnOutput(this, 'FanOutDeadLetterQueueArn', { description: 'Fan-out batches that failed every delivery', value: this.fanOut.deadLetters.queue.queueArn });
    new CfnOutput(this, 'TopicArn', { description: 'SNS topic with click outcomes and failures', value: this.notifications.topic.topicArn });
    if (settings.rollout) {
      new CfnOutput(this, 'RolloutEventsCommand', {
        description: 'Roll-out mode: run once per account and region so IoT publishes job events (the roll-out SNS messages need them)',
        value: `aws iot update-event-configurations --region ${Aws.REGION} --event-configurations '{"JOB":{"Enabled":true}}'`,
      });
    }
    if (this.releaseSigningKey) {
      const keyArn = this.releaseSigningKey.key.keyArn;
      new CfnOutput(this, 'ReleaseSigningKeyArn', {
        description: `Sign releases with it: npx shadowplug publish FILE --key KEY --bucket <BucketName> --kms-key-id <this ARN> (only releasePublisher may)`,
        value: keyArn,
      });
      new CfnOutput(this, 'ReleasePublicKeyCommand', {
        description: `CloudFormation cannot output a KMS public key (AWS::KMS::Key has only Arn and KeyId): this writes it as PEM, for each device's ${TRUSTED_KEY_PATH}`,
        value: publicKeyCommand(keyArn),
      });
    }
    settings.thingNames.forEach((thingName, i) => {
      new CfnOutput(this, `AgentCommand${i + 1}`, {
        description: `Run on the device of thing ${thingName}, with the agent, certificate, key and AmazonRootCA1.pem${this.releaseSigningKey ? ` (and ${TRUSTED_KEY_PATH}, from ReleasePublicKeyCommand)` : ''} installed as docs/install.md says`,
        value: agentCommandLine(this.devices.roleAlias.ref, thingName, { ...settings, trustedKey: this.releaseSigningKey !== undefined }),
      });
    });
  }
}

/**
 * The device's command line: the endpoints looked up in place by the AWS CLI, the installed agent
 * with docs/install.md's paths (not `npx`, which outside a clone fetches an unrelated package).
 */
export function agentCommandLine(roleAlias: string, thingName: string, settings: Pick<StackSettings, 'shadowProperty' | 'shadowName' | 'rollout'> & { trustedKey?: boolean }): string {
  const endpoint = (type: string): string =>
    `$(aws iot describe-endpoint --endpoint-type ${type} --region ${Aws.REGION} --query endpointAddress --output text)`;
  const parts = [
    'node /usr/local/lib/shadowplug/shadowplug-agent.mjs',
    `--endpoint "${endpoint('iot:Data-ATS')}"`,
    `--credential-endpoint "${endpoint('iot:CredentialProvider')}/role-aliases/${roleAlias}/credentials"`,
    `--thing-name ${thingName}`,
    `--region ${Aws.REGION}`,
    '--cert /etc/shadowplug/device.pem.crt --key /etc/shadowplug/private.pem.key --ca-file /etc/shadowplug/AmazonRootCA1.pem',
    `--shadow-property ${settings.shadowProperty}`,
    ...(settings.shadowName === undefined ? [] : [`--shadow-name ${settings.shadowName}`]),
    ...(settings.rollout ? ['--jobs'] : []),
    ...(settings.trustedKey ? [`--trusted-key ${TRUSTED_KEY_PATH}`] : []),
    '--dest /srv/shadowplug --state-dir /var/lib/shadowplug',
  ];
  return Fn.join(' ', parts);
}

/** Where docs/install.md puts the release-signing public key on a device. */
export const TRUSTED_KEY_PATH = '/etc/shadowplug/release-signing.pub.pem';

/**
 * The one command that turns the KMS key's public half (GetPublicKey: base64 of the SPKI DER) into
 * the PEM the agent's --trusted-key reads.
 */
export function publicKeyCommand(keyArn: string): string {
  return Fn.join('', [
    `aws kms get-public-key --region ${Aws.REGION} --key-id `,
    keyArn,
    ' --query PublicKey --output text | base64 --decode | openssl pkey -pubin -inform DER -out release-signing.pub.pem',
  ]);
}
