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
  const named = (key: string, max: number): string => (typeof p[key] === 'string' ? (p[key] as string) : generatedName(stack, id, max));
  const arn = (service: string, resourcePart: string): string => `arn:${env.partition}:${service}:${env.region}:${env.account}:${resourcePart}`;
  switch (resource.Type) {
    case 'AWS::SNS::Topic':
      return arn('sns', named('TopicName', 256));
    case 'AWS::IoT::RoleAlias':
      return named('RoleAlias', 128);
    case 'AWS::IoT::Policy':
      return named('PolicyName', 128);
    case 'AWS::IoT::Thing':
      return named('ThingName', 128);
    case 'AWS::IoT::TopicRule':
      // Rule names allow only letters, digits and underscores: CloudFormation builds them without the stack name.
      return typeof p.RuleName === 'string' ? p.RuleName : `${id}_ABCDEFGHIJKL`;
    case 'AWS::S3::Bucket':
      return named('BucketName', 63).toLowerCase();
    case 'AWS::IAM::Role':
      return named('RoleName', 64);
    case 'AWS::Lambda::Function':
      return named('FunctionName', 64);
    case 'AWS::Logs::LogGroup':
      return named('LogGroupName', 512);
    case 'AWS::SQS::Queue':
      // Ref is the queue URL.
      return `https://sqs.${env.region}.amazonaws.com/${env.account}/${named('QueueName', 80)}`;
    default:
      return generatedName(stack, id, 128);
  }
}

function getAtt(env: Environment, stack: string, resources: Resources, id: string, attribute: string): string {
  const resource = resources[id];
  if (!resource) throw new Error(`GetAtt of unknown ${id}`);
  const name = refValue(env, stack, resources, id);
  const arn = (service: string, resourcePart: string, region = env.region): string => `arn:${env.partition}:${service}:${region}:${env.account}:${resourcePart}`;
  const key = `${resource.Type}.${attribute}`;
  switch (key) {
    case 'AWS::IAM::Role.Arn':
      return arn('iam', `role/${name}`, '');
    case 'AWS::IoT::RoleAlias.RoleAliasArn':
      return arn('iot', `rolealias/${name}`);
    case 'AWS::IoT::TopicRule.Arn':
      return arn('iot', `rule/${name}`);
    case 'AWS::S3::Bucket.Arn':
      return `arn:${env.partition}:s3:::${name}`;
    case 'AWS::Lambda::Function.Arn':
      return arn('lambda', `function:${name}`);
    case 'AWS::Logs::LogGroup.Arn':
      return arn('logs', `log-group:${name}:*`);
    case 'AWS::SNS::Topic.TopicArn':
      return name;
    case 'AWS::SQS::Queue.Arn':
      return arn('sqs', name.split('/').pop()!);
    case 'AWS::SQS::Queue.QueueName':
      return name.split('/').pop()!;
    case 'AWS::SQS::Queue.QueueUrl':
      return name;
    case 'AWS::KMS::Key.Arn':
      return arn('kms', `key/${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`);
    default:
      // Custom resources' data (e.g. the IoT data endpoint): a long, realistic host.
      if (resource.Type.startsWith('Custom::')) return `a1b2c3d4e5f6g7-ats.iot.${env.region}.amazonaws.com`;
      throw new Error(`cannot resolve Fn::GetAtt ${key}`);
  }
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
