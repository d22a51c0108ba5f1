/**
 * What a device may do over MQTT, one model for the stack's IoT policy and the sandbox broker:
 * connect as itself, `get` and `update` its own shadow(s) and receive their replies; nothing of any
 * other thing, no `delete`, no `iotbutton/` topics. Pure. AWS accepts at most 2,048 characters per
 * policy, each resource a full ARN: so replies are one wildcard per shadow, and a family of named
 * shadows one wildcard (`name/plug-*`), whatever the number of plugs.
 */
import { THING_NAME_VARIABLE, type IotPolicy, type IotResource } from './policy';

/** The shadow(s) a device uses: the classic one, one named shadow, or every named shadow starting with `prefix`. */
export type ShadowScope = { kind: 'classic' } | { kind: 'named'; name: string } | { kind: 'named-prefix'; prefix: string };

export const CLASSIC_SHADOW: ShadowScope = { kind: 'classic' };

/** The scope of the one shadow the agent is configured with (classic when `shadowName` is undefined). */
export function shadowScope(shadowName: string | undefined): ShadowScope {
  return shadowName === undefined ? CLASSIC_SHADOW : { kind: 'named', name: shadowName };
}

/** The agent never deletes its shadow. */
const DEVICE_REQUESTS = ['get', 'update'] as const;

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
  return [
    // The client id must be the name of a thing attached to this very certificate.
    { sid: 'ConnectAsItself', actions: ['iot:Connect'], resources: [{ type: 'client', name: thing }], requiresAttachedThing: true },
    { sid: 'AskOwnShadow', actions: ['iot:Publish'], resources: [...resources('topic', DEVICE_REQUESTS), ...jobRequests] },
    { sid: 'SubscribeOwnShadowReplies', actions: ['iot:Subscribe'], resources: replies.map((name) => ({ type: 'topicfilter', name })) },
    { sid: 'ReceiveOwnShadowReplies', actions: ['iot:Receive'], resources: replies.map((name) => ({ type: 'topic', name })) },
  ];
}

/** An IoT button: publish its clicks on `iotbutton/<serial>`, nothing else. */
export function buttonPolicy(serial: string, clientId: string): IotPolicy {
  return [
    { sid: 'ConnectAsButton', actions: ['iot:Connect'], resources: [{ type: 'client', name: clientId }] },
    { sid: 'PublishOwnClicks', actions: ['iot:Publish'], resources: [{ type: 'topic', name: `iotbutton/${serial}` }] },
  ];
}
