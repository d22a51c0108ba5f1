/** The shadowplug version, from package.json (a bundle inlines only this field). */
import { version } from '../package.json';

export const SHADOWPLUG_VERSION: string = version;
