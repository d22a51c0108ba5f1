/**
 * What a device (an IoT thing running the agent) may do over MQTT, as one model for the stack's
 * IoT policy and the sandbox broker: connect as itself, request `get` and `update` on its own
 * shadow(s), and subscribe to and receive their replies. Nothing of any other thing, no `delete`,
 * no `iotbutton/` topics. Pure.
 *
 * Size matters: AWS accepts at most 2,048 characters (whitespace excluded) per policy, and every
 * resource is a full ARN. So replies are one wildcard per shadow (`<shadow>/*`, which stays inside
 * the thing's own shadow), and a family of named shadows is one wildcard (`name/plug-*`), so adding
 * shadows never grows the policy with the number of plugs.
 */
import { THING_NAME_VARIABLE, type IotPolicy, type IotPolicyStatement, type IotResource } from './policy';

/** The shadow(s) a device uses: the classic one, one named shadow, or every named shadow starting with `prefix`. */
export type ShadowScope = { kind: 'classic' } | { kind: 'named'; name: string } | { kind: 'named-prefix'; prefix: string };

export const CLASSIC_SHADOW: ShadowScope = { kind: 'classic' };

/** The scope of the one shadow the agent is configured with (classic when `shadowName` is undefined). */
export function shadowScope(shadowName: string | undefined): ShadowScope {
  return shadowName === undefined ? CLASSIC_SHADOW : { kind: 'named', name: shadowName };
}

/** The requests a device publishes (the agent never deletes its shadow). */
export const DEVICE_REQUESTS = ['get', 'update'] as const;

function shadowPrefix(thing: string, scope: ShadowScope): string {
  const base = `$aws/things/${thing}/shadow`;
  if (scope.kind === 'classic') return base;
  return `${base}/name/${scope.kind === 'named' ? scope.name : `${scope.prefix}*`}`;
}

export interface DevicePolicyOptions {
  shadows: readonly ShadowScope[];
  /** Whose policy: the thing-name variable (default, the stack) or a concrete thing name. */
  thing?: string;
  /** IoT Jobs (roll-out mode): publish the thing's own job requests, and receive its own job notifications. */
  jobs?: boolean;
}

export function devicePolicy(options: DevicePolicyOptions): IotPolicy {
  const thing = options.thing ?? THING_NAME_VARIABLE;
  const prefixes = options.shadows.map((scope) => shadowPrefix(thing, scope));
  const resources = (type: IotResource['type'], suffixes: readonly string[]): IotResource[] =>
    prefixes.flatMap((prefix) => suffixes.map((suffix) => ({ type, name: `${prefix}/${suffix}` })));
  // Roll-out mode: the replies and notifications of its shadows and its jobs are one wildcard over
  // the thing's own reserved topics (fewer ARNs than one per shadow plus the jobs), and it may
  // publish its job requests (start-next, get, <jobId>/update).
  const replies = options.jobs ? [`$aws/things/${thing}/*`] : prefixes.map((prefix) => `${prefix}/*`);
  const jobRequests: IotResource[] = options.jobs ? [{ type: 'topic', name: `$aws/things/${thing}/jobs/*` }] : [];
  const statements: IotPolicyStatement[] = [
    // The client id must be the name of a thing attached to this very certificate.
    { sid: 'ConnectAsItself', actions: ['iot:Connect'], resources: [{ type: 'client', name: thing }], requiresAttachedThing: true },
    { sid: 'AskOwnShadow', actions: ['iot:Publish'], resources: [...resources('topic', DEVICE_REQUESTS), ...jobRequests] },
    { sid: 'SubscribeOwnShadowReplies', actions: ['iot:Subscribe'], resources: replies.map((name) => ({ type: 'topicfilter', name })) },
    { sid: 'ReceiveOwnShadowReplies', actions: ['iot:Receive'], resources: replies.map((name) => ({ type: 'topic', name })) },
  ];
  return statements;
}

/** An IoT button: publish its clicks on `iotbutton/<serial>`, nothing else. */
export function buttonPolicy(serial: string, clientId: string): IotPolicy {
  return [
    { sid: 'ConnectAsButton', actions: ['iot:Connect'], resources: [{ type: 'client', name: clientId }] },
    { sid: 'PublishOwnClicks', actions: ['iot:Publish'], resources: [{ type: 'topic', name: `iotbutton/${serial}` }] },
  ];
}
