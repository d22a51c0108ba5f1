/** The log-level setting, the same for every function and command. */
import { DOCS, NO_TEXT } from './docs-text';
import { LOG_LEVELS } from '../logger';
import { oneOf } from './codecs';
import { SHARED_ENV_NAMES } from './env-names';
import { setting } from './schema';

export const logLevelSetting = setting(oneOf(LOG_LEVELS, true), {
  env: SHARED_ENV_NAMES.logLevel,
  flag: '--log-level <level>',
  default: 'info' as const,
  ...(DOCS ? { type: LOG_LEVELS.join(' | '), description: 'How much to log: debug, info, warn, error or silent' } : NO_TEXT),
});
