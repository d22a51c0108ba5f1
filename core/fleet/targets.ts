/**
 * Who gets an object: a key under `<prefix><thing>/` that thing only; any other the configured
 * thing names plus the members of the configured thing groups, listed when the event is handled (a
 * device added to a group gets the next upload without a redeploy) and cached per group for
 * `ttlMs` (a burst of uploads lists each group once). Pure: listing a group's page is a parameter.
 */
import { ShadowplugError } from '../errors';
import { THING_NAME_PATTERN } from '../shadow/topics';

export type Route =
  | { type: 'things'; things: string[]; perThing: boolean }
  | { type: 'none'; reason: 'no-default-target' | 'invalid-thing-name' | 'folder-marker'; detail: string };

export function routeKey(key: string, options: { thingPrefix: string; targetThings: readonly string[] }): Route {
  // Console "folders" are zero-byte keys ending in '/': nothing for a device to install.
  if (key.endsWith('/')) return { type: 'none', reason: 'folder-marker', detail: `key ${JSON.stringify(key)} is a folder marker` };
  if (key.startsWith(options.thingPrefix)) {
    const rest = key.slice(options.thingPrefix.length);
    const slash = rest.indexOf('/');
    if (slash >= 0) {
      const thing = rest.slice(0, slash);
      if (!THING_NAME_PATTERN.test(thing)) {
        return { type: 'none', reason: 'invalid-thing-name', detail: `${JSON.stringify(thing)} in key ${JSON.stringify(key)} is not a valid thing name` };
      }
      return { type: 'things', things: [thing], perThing: true };
    }
  }
  if (options.targetThings.length === 0) {
    return { type: 'none', reason: 'no-default-target', detail: `key ${JSON.stringify(key)} is not under ${options.thingPrefix}<thing>/ and no default target thing is configured (no device may read it)` };
  }
  return { type: 'things', things: [...options.targetThings], perThing: false };
}

/** A configured group that does not exist. Retryable: once it is created, a redrive of the failed event delivers it. */
export class ThingGroupNotFoundError extends ShadowplugError {
  readonly group: string;
  constructor(group: string, cause?: unknown) {
    super(`thing group "${group}" does not exist (check the thingGroups setting, or create the group)`, { code: 'THING_GROUP_NOT_FOUND', retryable: true, cause });
    this.group = group;
  }
}

export interface GroupPage {
  things: string[];
  nextToken?: string;
}

/** One page of a group's things, recursively; throws ThingGroupNotFoundError for a missing group. */
export type ListGroupPage = (group: string, nextToken: string | undefined) => Promise<GroupPage>;

export const GROUP_CACHE_MS = 60_000;

export interface Targets {
  /** Static names first, then group members in listing order; no duplicates. */
  things: string[];
  /** Members per group, for the log and for "group is empty" reports. */
  groups: { group: string; members: number }[];
}

export class TargetResolver {
  private readonly cache = new Map<string, { at: number; things: string[] }>();
  private readonly ttlMs: number;

  constructor(
    private readonly listPage: ListGroupPage,
    private readonly clock: () => number,
    options: { ttlMs?: number } = {},
  ) {
    this.ttlMs = options.ttlMs ?? GROUP_CACHE_MS;
  }

  async resolve(staticThings: readonly string[], groups: readonly string[]): Promise<Targets> {
    const counts: Targets['groups'] = [];
    let members: string[] = [];
    for (const group of groups) {
      const of = await this.members(group);
      counts.push({ group, members: of.length });
      members = members.concat(of);
    }
    return { things: [...new Set([...staticThings, ...members])], groups: counts };
  }

  /** Every thing of `group` (all pages), from the cache when fresh. */
  async members(group: string): Promise<string[]> {
    const now = this.clock();
    const hit = this.cache.get(group);
    if (hit && now - hit.at < this.ttlMs) return hit.things;
    const things: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.listPage(group, token);
      things.push(...page.things);
      token = page.nextToken;
    } while (token);
    this.cache.set(group, { at: now, things });
    return things;
  }
}

/**
 * A key routed to the default targets goes to the configured groups' members too; with groups
 * configured, "no default target" is decided only once they are listed. A per-thing key
 * (`things/<thing>/…`) stays with its thing. `no-targets`: every group is empty (reported, not
 * an error).
 */
export async function routeWithGroups(route: Route, staticThings: readonly string[], groups: readonly string[], resolver: TargetResolver | undefined): Promise<GroupRoute> {
  const broadcast = (route.type === 'things' && !route.perThing) || (route.type === 'none' && route.reason === 'no-default-target');
  if (!broadcast || groups.length === 0 || resolver === undefined) return route;
  const targets = await resolver.resolve(staticThings, groups);
  if (targets.things.length === 0) {
    return { type: 'none', reason: 'no-targets', detail: `no target devices: ${targets.groups.map((g) => `thing group "${g.group}" has no members`).join(', ')}` };
  }
  return { type: 'things', things: targets.things, perThing: false };
}

export type GroupRoute = Route | { type: 'none'; reason: 'no-targets'; detail: string };
