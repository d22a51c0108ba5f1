import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { bucketLogicalId, iotArn, nagPolicyVariables } from './arns';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnPolicy, CfnPolicyPrincipalAttachment, CfnRoleAlias, CfnThing, CfnThingPrincipalAttachment } from 'aws-cdk-lib/aws-iot';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { iotPolicyDocument } from '../../core/iot-policy/policy';
import { devicePolicy, shadowScope } from '../../core/iot-policy/device-policy';
import { PLUG_SHADOW_PREFIX } from '../../core/plug-relay/contract';

/** IAM policy variable the credentials provider sets from the `x-amzn-iot-thingname` header. */
const CREDENTIALS_THING_VARIABLE = '${credentials-iot:ThingName}';

export interface DeviceIdentityProps {
  readonly thingNames: readonly string[];
  /** The device's shadow: classic when undefined. */
  readonly shadowName?: string;
  readonly bucket: IBucket;
  /** The prefix uploads live under ('' = the whole bucket). */
  readonly keyPrefix: string;
  /** Devices may read only `<keyPrefix>things/<own thing name>/...`. */
  readonly scopeObjectsPerThing: boolean;
  readonly credentialDurationSeconds: number;
  /** Thing name → existing certificate ARN. */
  readonly certificates: Readonly<Record<string, string>>;
  /** Relay mode: the hubs also get and update their own `plug-*` shadows. */
  readonly plugShadows?: boolean;
  /** Roll-out mode: devices also read releases under this prefix and use their own job topics. */
  readonly rolloutPrefix?: string;
}

/** A device in AWS: its thing, a policy that lets it be only itself, and a role alias to buy download credentials. */
export class DeviceIdentity extends Construct {
  readonly policy: CfnPolicy;
  readonly roleAlias: CfnRoleAlias;

  constructor(scope: Construct, id: string, props: DeviceIdentityProps) {
    super(scope, id);
    const things = props.thingNames.map((name) => new CfnThing(this, `Thing-${name}`, { thingName: name }));

    const role = new Role(this, 'DeviceRole', {
      assumedBy: new ServicePrincipal('credentials.iot.amazonaws.com'),
      description: 'Assumed by devices through the IoT credentials provider to download their files',
      // A role alias may not hand out credentials longer than its role's maximum session (IAM: 1-12 h).
      maxSessionDuration: Duration.seconds(Math.max(3600, props.credentialDurationSeconds)),
    });
    const objects = props.scopeObjectsPerThing
      ? `${props.keyPrefix}things/${CREDENTIALS_THING_VARIABLE}/*`
      : `${props.keyPrefix}*`;
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'DownloadFiles',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [props.bucket.arnForObjects(objects), ...(props.rolloutPrefix !== undefined ? [props.bucket.arnForObjects(`${props.rolloutPrefix}*`)] : [])],
      }),
    );
    if (props.rolloutPrefix !== undefined) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketLogicalId(props.bucket)}.Arn>/${props.rolloutPrefix}*]`,
        reason: 'Roll-out mode: a device downloads the release its job names, any key under the roll-out prefix: GetObject/GetObjectVersion only.',
      });
    }

    Validations.of(role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketLogicalId(props.bucket)}.Arn>/${nagPolicyVariables(objects)}]`,
      reason: props.scopeObjectsPerThing
        ? "A device downloads any file addressed to it: GetObject/GetObjectVersion only, under its own things/<thing name>/ prefix (the credentials provider's thing-name variable)."
        : 'A device downloads whatever file its shadow names, which may be any uploaded key: GetObject/GetObjectVersion only, under the configured prefix. Set scopeObjectsPerThing to narrow it per thing.',
    });

    this.roleAlias = new CfnRoleAlias(this, 'RoleAlias', {
      roleAlias: `${Stack.of(this).stackName}-device`,
      roleArn: role.roleArn,
      credentialDurationSeconds: props.credentialDurationSeconds,
    });

    // From the one model the sandbox broker enforces too: every resource is the connecting thing's
    // own. Relay mode: each hub also serves its own plug shadows, one wildcard for any number of plugs.
    const model = devicePolicy({
      shadows: [shadowScope(props.shadowName), ...(props.plugShadows ? [{ kind: 'named-prefix' as const, prefix: PLUG_SHADOW_PREFIX }] : [])],
      jobs: props.rolloutPrefix !== undefined,
    });
    this.policy = new CfnPolicy(this, 'DevicePolicy', {
      policyDocument: iotPolicyDocument(model, (r) => iotArn(this, r.type, r.name), [
        { Sid: 'BuyDownloadCredentials', Effect: 'Allow', Action: ['iot:AssumeRoleWithCertificate'], Resource: [this.roleAlias.attrRoleAliasArn] },
      ]),
    });

    // Existing certificates: the policy to the certificate, the certificate to its thing.
    for (const thing of things) {
      const name = thing.thingName as string;
      const certificateArn = props.certificates[name];
      if (certificateArn === undefined) continue;
      new CfnPolicyPrincipalAttachment(this, `PolicyCertificate-${name}`, {
        policyName: this.policy.ref,
        principal: certificateArn,
      });
      new CfnThingPrincipalAttachment(this, `ThingCertificate-${name}`, {
        thingName: thing.ref,
        principal: certificateArn,
      });
    }
  }
}
