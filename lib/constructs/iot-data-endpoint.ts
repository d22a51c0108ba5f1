import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

/**
 * The account's IoT data endpoint, looked up at deploy time (synth stays offline): the SDK's
 * generic default endpoint is not documented to accept every data-plane call.
 */
export class IotDataEndpoint extends Construct {
  /** `https://…`, a deploy-time token. */
  readonly url: string;
  /** The bare host name, a deploy-time token. */
  readonly host: string;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    // It runs once per deployment: logs kept a week.
    const logGroup = new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY });
    // Not the managed basic execution role.
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Looks up the IoT data endpoint during deployment',
    });
    logGroup.grantWrite(role);

    const call = {
      service: '@aws-sdk/client-iot',
      action: 'DescribeEndpoint',
      parameters: { endpointType: 'iot:Data-ATS' },
      physicalResourceId: PhysicalResourceId.of('iot-data-ats-endpoint'),
    };
    const lookup = new AwsCustomResource(this, 'Lookup', {
      onCreate: call,
      onUpdate: call,
      role,
      logGroup,
      installLatestAwsSdk: false,
      policy: AwsCustomResourcePolicy.fromStatements([
        new PolicyStatement({ actions: ['iot:DescribeEndpoint'], resources: ['*'] }),
      ]),
    });
    Validations.of(lookup).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'iot:DescribeEndpoint has no resource type: IAM accepts only "*" for it. The role can do nothing else but write its own logs.',
    });
    this.host = lookup.getResponseField('endpointAddress');
    this.url = `https://${this.host}`;
  }
}
