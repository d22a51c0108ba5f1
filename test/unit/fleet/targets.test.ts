import { describe, expect, it } from 'vitest';
import { TargetResolver, ThingGroupNotFoundError, type GroupPage } from '../../../core/fleet/targets';

function pagedGroups(groups: Record<string, string[]>, pageSize: number) {
  const calls: string[] = [];
  const list = async (group: string, token: string | undefined): Promise<GroupPage> => {
    calls.push(`${group}@${token ?? 0}`);
    const members = groups[group];
    if (!members) throw new ThingGroupNotFoundError(group);
    const start = Number(token ?? 0);
    const end = start + pageSize;
    return { things: members.slice(start, end), ...(end < members.length ? { nextToken: String(end) } : {}) };
  };
  return { list, calls };
}

describe('TargetResolver', () => {
  it('joins static names and every page of each group, each thing once, static first', async () => {
    const g = pagedGroups({ a: ['t1', 't2', 't3', 't4', 't5'], b: ['t5', 's1', 't6'] }, 2);
    const r = new TargetResolver(g.list, () => 0);
    const targets = await r.resolve(['s1'], ['a', 'b']);
    expect(targets.things).toEqual(['s1', 't1', 't2', 't3', 't4', 't5', 't6']);
    expect(targets.groups).toEqual([{ group: 'a', members: 5 }, { group: 'b', members: 3 }]);
    expect(g.calls).toEqual(['a@0', 'a@2', 'a@4', 'b@0', 'b@2']);
  });

  it('lists a group again only after the cache time, so a new member arrives within it', async () => {
    const groups = { a: ['t1'] };
    const g = pagedGroups(groups, 10);
    let now = 0;
    const r = new TargetResolver(g.list, () => now, { ttlMs: 1000 });
    expect((await r.resolve([], ['a'])).things).toEqual(['t1']);
    groups.a.push('t2');
    now = 999;
    expect((await r.resolve([], ['a'])).things).toEqual(['t1']);
    now = 1000;
    expect((await r.resolve([], ['a'])).things).toEqual(['t1', 't2']);
    expect(g.calls).toHaveLength(2);
  });

  it('reports an empty group with zero members, and a missing one by name', async () => {
    const g = pagedGroups({ empty: [] }, 10);
    const r = new TargetResolver(g.list, () => 0);
    expect(await r.resolve([], ['empty'])).toEqual({ things: [], groups: [{ group: 'empty', members: 0 }] });
    await expect(r.resolve([], ['nope'])).rejects.toThrow(/thing group "nope" does not exist/);
  });
});
