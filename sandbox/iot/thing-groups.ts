/**
 * Thing groups of the IoT Core stand-in: static groups (things added by name), dynamic groups (a
 * fleet-index query, of which the `thingName:<pattern>` form is understood, `*` a wildcard), and
 * nesting (`parent`). Members are listed as `ListThingsInThingGroup` lists them: recursively
 * when asked, in a stable order, each thing once.
 */
import { THING_NAME_PATTERN } from '../../core/shadow/topics';
import { ShadowplugError } from '../../core/errors';
import { iotCoreInvalidName } from './errors';

const groupError = (message: string, code: string) => new ShadowplugError(message, { code, retryable: false });

export interface ThingGroupSpec {
  name: string;
  /** The group this one is nested in (created first). */
  parent?: string;
  /** Static: these things. */
  things?: string[];
  /** Dynamic: `thingName:<pattern>` (`*` matches any run of characters). */
  query?: string;
}

/** A group name as IoT accepts it. */
const GROUP_NAME_PATTERN = /^[a-zA-Z0-9:_-]{1,128}$/;
const QUERY_PATTERN = /^thingName:([a-zA-Z0-9:_*-]{1,128})$/;

interface Group {
  parent?: string;
  things: Set<string>;
  match?: RegExp;
}

export class ThingGroups {
  private readonly groups = new Map<string, Group>();

  /** `allThings`: every registered thing, which dynamic groups select from. */
  constructor(private readonly allThings: () => Iterable<string>) {}

  create(spec: ThingGroupSpec): void {
    if (!GROUP_NAME_PATTERN.test(spec.name)) throw iotCoreInvalidName('thing group name', spec.name, 'expected [a-zA-Z0-9:_-]{1,128}');
    if (this.groups.has(spec.name)) throw groupError(`thing group "${spec.name}" already exists`, 'IOT_CORE_GROUP_EXISTS');
    if (spec.parent !== undefined && !this.groups.has(spec.parent)) throw groupError(`thing group "${spec.name}": parent group "${spec.parent}" does not exist`, 'IOT_CORE_GROUP_MISSING');
    let match: RegExp | undefined;
    if (spec.query !== undefined) {
      const m = QUERY_PATTERN.exec(spec.query);
      if (!m) throw iotCoreInvalidName('dynamic group query', spec.query, 'the stand-in understands thingName:<pattern> (* a wildcard)');
      if (spec.things?.length) throw groupError(`thing group "${spec.name}": a dynamic group has no static things`, 'IOT_CORE_GROUP_INVALID');
      match = new RegExp(`^${m[1]!.replace(/\*/g, '.*')}$`);
    }
    this.groups.set(spec.name, { ...(spec.parent !== undefined ? { parent: spec.parent } : {}), things: new Set(), ...(match ? { match } : {}) });
    for (const t of spec.things ?? []) this.addThing(spec.name, t);
  }

  addThing(group: string, thing: string): void {
    const g = this.groups.get(group);
    if (!g) throw groupError(`thing group "${group}" does not exist`, 'IOT_CORE_GROUP_MISSING');
    if (g.match) throw groupError(`thing group "${group}" is dynamic: its query decides its members`, 'IOT_CORE_GROUP_INVALID');
    if (!THING_NAME_PATTERN.test(thing)) throw iotCoreInvalidName('thing name', thing, 'expected [a-zA-Z0-9:_-]{1,128}');
    g.things.add(thing);
  }

  /** The group's things (and its descendants' with `recursive`), each once; undefined when no such group. */
  members(group: string, recursive: boolean): string[] | undefined {
    if (!this.groups.has(group)) return undefined;
    const out = new Set<string>();
    const visit = (name: string) => {
      const g = this.groups.get(name)!;
      if (g.match) for (const t of this.allThings()) if (g.match.test(t)) out.add(t);
      for (const t of g.things) out.add(t);
      if (recursive) for (const [child, c] of this.groups) if (c.parent === name) visit(child);
    };
    visit(group);
    return [...out];
  }
}
