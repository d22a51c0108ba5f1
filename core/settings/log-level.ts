/** The log-level setting, the same for every function and command. */
import { DOCS } from './docs-text';
import { LOG_LEVELS } from '../logger';
import { oneOf } from './codecs';
import { ENV_NAMES } from './env-names';
import { setting } from './schema';

export const logLevelSetting = setting(oneOf(LOG_LEVELS, true), {
  env: ENV_NAMES.logLevel,
  flag: '--log-level <level>',
  type: LOG_LEVELS.join(' | '),
  default: 'info' as const,
  description: DOCS ? 'How much to log: debug, info, warn, error or silent' : '',
});
