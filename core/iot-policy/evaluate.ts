/**
 * Evaluates an IoT policy (./policy.ts) as IoT Core does for MQTT: allowed when some statement lists
 * the action with a resource of its type whose name matches, the thing-name variable replaced. `*`
 * matches any run of characters (`/` too), `?` one; MQTT's `+` and `#` are plain characters. Pure.
 */
import { RESOURCE_TYPE_OF, THING_NAME_VARIABLE, type IotAction, type IotPolicy } from './policy';

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
