/**
 * IoT Core policies as data: statements of actions on resources named without their ARN prefix;
 * as CreatePolicy's JSON document (each resource made an ARN by the caller), and evaluated as IoT
 * Core does for MQTT: allowed when some statement lists the action with a resource of its type
 * whose name matches, the thing-name variable replaced. `*` matches any run of characters (`/`
 * too), `?` one; MQTT's `+` and `#` are plain characters. Pure.
 */

/** IoT policy variable: the thing attached to the connecting certificate. Never substituted by CDK. */
export const THING_NAME_VARIABLE = '${iot:Connection.Thing.ThingName}';

export type IotAction = 'iot:Connect' | 'iot:Publish' | 'iot:Subscribe' | 'iot:Receive';

/** Which resource type each MQTT action is checked against, as IoT Core does. */
const RESOURCE_TYPE_OF: Readonly<Record<IotAction, IotResourceType>> = {
  'iot:Connect': 'client',
  'iot:Publish': 'topic',
  'iot:Subscribe': 'topicfilter',
  'iot:Receive': 'topic',
};

export type IotResourceType = 'client' | 'topic' | 'topicfilter';

/**
 * A resource as in the ARN's resource part, `<type>/<name>`. The name may hold IoT policy
 * wildcards (`*` any run of characters, `?` one character) and the thing-name variable.
 */
export interface IotResource {
  type: IotResourceType;
  name: string;
}

interface IotPolicyStatement {
  sid: string;
  actions: IotAction[];
  resources: IotResource[];
  /** `iot:Connect` only: the client id must be a thing attached to the certificate. */
  requiresAttachedThing?: boolean;
}

export type IotPolicy = readonly IotPolicyStatement[];

export interface IotPolicyDocument {
  Version: '2012-10-17';
  Statement: {
    Sid: string;
    Effect: 'Allow';
    Action: string[];
    Resource: string[];
    Condition?: Record<string, Record<string, string>>;
  }[];
}

export function iotPolicyDocument(policy: IotPolicy, arn: (resource: IotResource) => string, extra: IotPolicyDocument['Statement'] = []): IotPolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      ...policy.map((s) => ({
        Sid: s.sid,
        Effect: 'Allow' as const,
        Action: [...s.actions],
        Resource: s.resources.map(arn),
        ...(s.requiresAttachedThing ? { Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } } } : {}),
      })),
      ...extra,
    ],
  };
}

/** The size AWS IoT measures a policy by: its characters excluding whitespace (limit 2,048). */
export function policyCharacters(document: unknown): number {
  return JSON.stringify(document).replace(/\s/g, '').length;
}

export interface PolicyContext {
  /** The thing attached to the connecting certificate, if any. */
  thingName?: string;
}

const escape = (text: string): string => text.replace(/[\\^$.*+?|()[\]{}]/g, '\\$&');

/** `*`/`?` pattern → RegExp source, every other character literal. */
function patternSource(pattern: string): string {
  return [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : escape(c))).join('');
}

/** The resource name as an anchored RegExp, the variable replaced by the (literal) thing name; undefined if it cannot match. */
function resourceRegExp(name: string, context: PolicyContext): RegExp | undefined {
  const pieces = name.split(THING_NAME_VARIABLE);
  // Without an attached thing the variable resolves to nothing and the resource matches nothing.
  if (pieces.length > 1 && context.thingName === undefined) return undefined;
  const source = pieces.map(patternSource).join(escape(context.thingName ?? ''));
  return new RegExp(`^${source}$`, 's');
}

export function isAllowed(policy: IotPolicy, action: IotAction, resourceName: string, context: PolicyContext = {}): boolean {
  const type = RESOURCE_TYPE_OF[action];
  return policy.some(
    (statement) =>
      statement.actions.includes(action) &&
      !(statement.requiresAttachedThing && context.thingName === undefined) &&
      statement.resources.some((resource) => {
        if (resource.type !== type) return false;
        return resourceRegExp(resource.name, context)?.test(resourceName) ?? false;
      }),
  );
}
