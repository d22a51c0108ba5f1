/**
 * The shadowplug version, from package.json (the bundle inlines only this field), shown by
 * `--version` and reported in the shadow's `reported.agent`.
 */
import { version } from '../package.json';

export const SHADOWPLUG_VERSION: string = version;
