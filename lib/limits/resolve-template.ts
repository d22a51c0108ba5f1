/**
 * Resolves a synthesized template for one concrete region and account, as CloudFormation would
 * before calling each service: pseudo parameters, `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Select`,
 * `Fn::Split` and `Fn::Sub` become strings. Physical names CloudFormation generates
 * (`<stack>-<logical id>-<suffix>`) are made as long as CloudFormation makes them, so a size
 * measured on the result is what AWS would measure. Pure: used by the synth-time limit checks
 * and the infra tests.
 */
export interface Environment {
  region: string;
  account: string;
  partition: string;
}

/** A concrete commercial region with one of the longest names (14 characters). */
export const LONG_REGION: Environment = { region: 'ap-southeast-2', account: '123456789012', partition: 'aws' };
/** Longer than any real combination (the longest partition name with the longest region name): the synth-time bound. */
export const WORST_CASE: Environment = { region: 'ap-southeast-2', account: '123456789012', partition: 'aws-us-gov' };

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** A CloudFormation-generated physical name: stack name, logical id and a 12-13 character suffix, within `max`. */
function generatedName(stack: string, logicalId: string, max: number): string {
  return `${stack}-${logicalId}-ABCDEFGHIJKLM`.slice(-max);
}

/** Resource type → the property naming it, and the longest name CloudFormation generates when it is absent. */
const NAME_PROPERTIES: Record<string, [string, number]> = {
  'AWS::SNS::Topic': ['TopicName', 256],
  'AWS::IoT::RoleAlias': ['RoleAlias', 128],
  'AWS::IoT::Policy': ['PolicyName', 128],
  'AWS::IoT::Thing': ['ThingName', 128],
  'AWS::S3::Bucket': ['BucketName', 63],
  'AWS::IAM::Role': ['RoleName', 64],
  'AWS::Lambda::Function': ['FunctionName', 64],
  'AWS::Logs::LogGroup': ['LogGroupName', 512],
  'AWS::SQS::Queue': ['QueueName', 80],
};

function refValue(env: Environment, stack: string, resources: Resources, id: string): string {
  const pseudo: Record<string, string> = {
    'AWS::Partition': env.partition,
    'AWS::Region': env.region,
    'AWS::AccountId': env.account,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': stack,
    'AWS::StackId': `arn:${env.partition}:cloudformation:${env.region}:${env.account}:stack/${stack}/00000000-0000-0000-0000-000000000000`,
    'AWS::NoValue': '',
  };
  if (id in pseudo) return pseudo[id] as string;
  const resource = resources[id];
  if (!resource) throw new Error(`Ref to unknown ${id}`);
  const p = resource.Properties ?? {};
  const [property, max] = NAME_PROPERTIES[resource.Type] ?? ['', 128];
  const name = typeof p[property] === 'string' ? (p[property] as string) : generatedName(stack, id, max);
  switch (resource.Type) {
    case 'AWS::SNS::Topic':
      return `arn:${env.partition}:sns:${env.region}:${env.account}:${name}`;
    case 'AWS::IoT::TopicRule':
      // Rule names allow only letters, digits and underscores: CloudFormation builds them without the stack name.
      return typeof p.RuleName === 'string' ? p.RuleName : `${id}_ABCDEFGHIJKL`;
    case 'AWS::S3::Bucket':
      return name.toLowerCase();
    case 'AWS::SQS::Queue':
      return `https://sqs.${env.region}.amazonaws.com/${env.account}/${name}`; // Ref is the queue URL
    default:
      return name;
  }
}

function getAtt(env: Environment, stack: string, resources: Resources, id: string, attribute: string): string {
  const resource = resources[id];
  if (!resource) throw new Error(`GetAtt of unknown ${id}`);
  const name = refValue(env, stack, resources, id);
  const arn = (service: string, resourcePart: string, region = env.region): string => `arn:${env.partition}:${service}:${region}:${env.account}:${resourcePart}`;
  const key = `${resource.Type}.${attribute}`;
  const attributes: Record<string, () => string> = {
    'AWS::IAM::Role.Arn': () => arn('iam', `role/${name}`, ''),
    'AWS::IoT::RoleAlias.RoleAliasArn': () => arn('iot', `rolealias/${name}`),
    'AWS::IoT::TopicRule.Arn': () => arn('iot', `rule/${name}`),
    'AWS::S3::Bucket.Arn': () => `arn:${env.partition}:s3:::${name}`,
    'AWS::Lambda::Function.Arn': () => arn('lambda', `function:${name}`),
    'AWS::Logs::LogGroup.Arn': () => arn('logs', `log-group:${name}:*`),
    'AWS::SNS::Topic.TopicArn': () => name,
    'AWS::SQS::Queue.Arn': () => arn('sqs', name.split('/').pop()!),
    'AWS::SQS::Queue.QueueName': () => name.split('/').pop()!,
    'AWS::SQS::Queue.QueueUrl': () => name,
    'AWS::KMS::Key.Arn': () => arn('kms', `key/${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`),
  };
  if (attributes[key]) return attributes[key]();
  // Custom resources' data (e.g. the IoT data endpoint): a long, realistic host.
  if (resource.Type.startsWith('Custom::')) return `a1b2c3d4e5f6g7-ats.iot.${env.region}.amazonaws.com`;
  throw new Error(`cannot resolve Fn::GetAtt ${key}`);
}

export function resolveValue(value: unknown, env: Environment, stack: string, resources: Resources): unknown {
  const again = (v: unknown) => resolveValue(v, env, stack, resources);
  if (Array.isArray(value)) return value.map(again);
  if (typeof value !== 'object' || value === null) return value;
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v);
  if (keys.length === 1) {
    const [key] = keys as [string];
    const arg = v[key];
    if (key === 'Ref') return refValue(env, stack, resources, arg as string);
    if (key === 'Fn::GetAtt') {
      const [id, attribute] = (typeof arg === 'string' ? arg.split('.') : arg) as [string, string];
      return getAtt(env, stack, resources, id, attribute);
    }
    if (key === 'Fn::Join') {
      const [separator, parts] = arg as [string, unknown[]];
      return (again(parts) as unknown[]).join(separator);
    }
    if (key === 'Fn::Select') {
      const [index, list] = arg as [number, unknown];
      return (again(list) as unknown[])[Number(again(index))];
    }
    if (key === 'Fn::Split') {
      const [separator, text] = arg as [string, unknown];
      return String(again(text)).split(separator);
    }
    if (key === 'Fn::Sub') {
      const [text, vars] = (typeof arg === 'string' ? [arg, {}] : arg) as [string, Record<string, unknown>];
      return text.replace(/\$\{([^}!]+)\}/g, (_m, name: string) => {
        if (name in vars) return String(again(vars[name]));
        const [id, attribute] = name.split('.') as [string, string | undefined];
        return attribute === undefined ? refValue(env, stack, resources, id) : getAtt(env, stack, resources, id, attribute);
      });
    }
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, again(x)]));
}

export interface ResolvedTemplate {
  Resources: Resources;
  Outputs?: Record<string, unknown>;
  /** Logical id → the physical name (`Ref`) CloudFormation would give it. */
  names: Record<string, string>;
}

/** The whole template with every property resolved for `env`. */
export function resolveTemplate(template: { Resources: Resources; Outputs?: unknown }, env: Environment, stack: string): ResolvedTemplate {
  const resources = template.Resources;
  return {
    Resources: Object.fromEntries(
      Object.entries(resources).map(([id, r]) => [id, { ...r, Properties: resolveValue(r.Properties ?? {}, env, stack, resources) as Record<string, unknown> }]),
    ),
    ...(template.Outputs ? { Outputs: resolveValue(template.Outputs, env, stack, resources) as Record<string, unknown> } : {}),
    names: Object.fromEntries(Object.keys(resources).map((id) => [id, refValue(env, stack, resources, id)])),
  };
}
