/** The log-level setting, the same for every function and command. */
import { LOG_LEVELS } from '../logger';
import { oneOf } from './codecs';
import { setting } from './schema';

export const logLevelSetting = setting(oneOf(LOG_LEVELS, true), { env: true, flag: '--log-level <level>', default: 'info' as const });

/** Its text for people (apart: the button's Lambda bundle does not carry it). */
export const LOG_LEVEL_TEXT = { description: 'How much to log: debug, info, warn, error or silent' };
