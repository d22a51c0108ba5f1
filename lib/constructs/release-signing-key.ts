import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccountRootPrincipal, ArnPrincipal, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { grantsOnlyForAwsServices } from './notifications';

export interface ReleaseSigningKeyProps {
  /** The IAM role or user (ARN) that publishes releases: the only principal that may sign. */
  readonly publisherArn: string;
}

/** What the publisher needs: sign, and read the public key the manifest's keyId is computed from. */
export const PUBLISHER_ACTIONS = ['kms:Sign', 'kms:GetPublicKey'] as const;

/**
 * Key management for the account's administrators (IAM decides who), without any cryptographic
 * use and without kms:CreateGrant, so no IAM policy and no grant can let anyone else sign.
 * kms:Get* includes GetPublicKey, for provisioning devices.
 */
const ADMINISTRATION = [
  'kms:CreateAlias',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];

/**
 * The release-signing key (docs/deploy.md, "Signed releases"): only the publisher may sign, never a
 * Lambda. Kept when the stack is deleted or the key replaced: every device trusts exactly this key,
 * and without it none accepts another release until each is given a new public key by hand.
 */
export class ReleaseSigningKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string, props: ReleaseSigningKeyProps) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: `${Stack.of(this).stackName} release signing (shadowplug publish --kms-key-id)`,
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
      // Our own policy instead of CDK's default (kms:* for the account), which would let any IAM policy grant Sign.
      policy: new PolicyDocument({
        statements: [new PolicyStatement({ sid: 'Administration', principals: [new AccountRootPrincipal()], actions: ADMINISTRATION, resources: ['*'] }), grantsOnlyForAwsServices()],
      }),
    });
    // A principal outside this stack: the grant lands in the key policy, naming it.
    this.key.grant(new ArnPrincipal(props.publisherArn), ...PUBLISHER_ACTIONS);
  }
}
