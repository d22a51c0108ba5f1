/**
 * Who gets an object: the configured thing names plus the members of the configured thing groups,
 * resolved when the event is handled (so a device added to a group gets the next upload without a
 * redeploy). Pure: listing one page of a group is a parameter (`ListThingsInThingGroup` with
 * `recursive`, so nested groups are included; static and dynamic groups answer alike).
 *
 * Members are cached per group for `ttlMs` (default 60 s, see GROUP_CACHE_MS): a burst of uploads
 * lists each group once, and a new member waits at most that long.
 */
import type { Clock } from './clock';

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
    private readonly clock: Clock,
    options: { ttlMs?: number } = {},
  ) {
    this.ttlMs = options.ttlMs ?? GROUP_CACHE_MS;
  }

  async resolve(staticThings: readonly string[], groups: readonly string[]): Promise<Targets> {
    const seen = new Set<string>(staticThings);
    const things = [...seen];
    const counts: Targets['groups'] = [];
    for (const group of groups) {
      const members = await this.members(group);
      counts.push({ group, members: members.length });
      for (const t of members) {
        if (!seen.has(t)) {
          seen.add(t);
          things.push(t);
        }
      }
    }
    return { things, groups: counts };
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
