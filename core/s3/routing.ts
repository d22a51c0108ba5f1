/** Which things an object goes to: a key under `<prefix><thingName>/` to that thing only, any other to the default targets. Pure. */
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
