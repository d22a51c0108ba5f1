/** The thing groups of `--group` or `--groups-file`, checked before start (SANDBOX_CONFIG naming the flag); uploads go to the top-level ones. */
import { readFileSync } from 'node:fs';
import { errorMessage } from '../core/errors';
import { isObject } from '../core/util/guards';
import { sandboxConfigError } from './errors';
import { ThingGroups, type ThingGroupSpec } from './iot/thing-groups';


/** The groups to create (in order) and those uploads go to (empty: the things by name). */
export function resolveSandboxGroups(options: { group?: string; groupsFile?: string }, things: readonly string[]): { specs: ThingGroupSpec[]; targets: string[] } {
  if (options.group !== undefined && options.groupsFile !== undefined) throw sandboxConfigError('--group and --groups-file: give one of them');
  const specs = options.group !== undefined ? [{ name: options.group, things: [...things] }] : options.groupsFile !== undefined ? readGroupsFile(options.groupsFile) : [];
  const flag = options.group !== undefined ? '--group' : '--groups-file';
  // Created once here, on a throw-away registry, so a bad name or parent is refused before start.
  const check = new ThingGroups(() => things);
  for (const spec of specs) {
    try {
      check.create(spec);
    } catch (err) {
      throw sandboxConfigError(`${flag}: ${errorMessage(err)}`, { cause: err });
    }
  }
  return { specs, targets: specs.filter((s) => s.parent === undefined).map((s) => s.name) };
}

function readGroupsFile(path: string): ThingGroupSpec[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw sandboxConfigError(`--groups-file ${path}: cannot read it as JSON (${errorMessage(err)})`, { cause: err });
  }
  if (!Array.isArray(raw)) throw sandboxConfigError(`--groups-file ${path}: expected a JSON list of groups`);
  return raw.map((g, i) => {
    const where = `--groups-file ${path}: group ${i + 1}`;
    if (!isObject(g) || typeof g.name !== 'string') throw sandboxConfigError(`${where}: needs a "name"`);
    if (g.parent !== undefined && typeof g.parent !== 'string') throw sandboxConfigError(`${where}: "parent" must be a group name`);
    if (g.query !== undefined && typeof g.query !== 'string') throw sandboxConfigError(`${where}: "query" must be text (thingName:<pattern>)`);
    if (g.things !== undefined && !(Array.isArray(g.things) && g.things.every((t) => typeof t === 'string'))) throw sandboxConfigError(`${where}: "things" must be a list of thing names`);
    return { name: g.name, ...(g.parent !== undefined ? { parent: g.parent as string } : {}), ...(g.query !== undefined ? { query: g.query as string } : {}), ...(g.things !== undefined ? { things: g.things as string[] } : {}) };
  });
}
