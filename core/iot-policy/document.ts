/** An IoT policy (./policy.ts) as CreatePolicy's JSON document, each resource made an ARN by `arn`. Pure. */
import type { IotPolicy, IotResource } from './policy';

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
