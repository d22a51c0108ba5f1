/** Which context key each function environment variable that can grow is made from (for limit messages). */
import { BUTTON_ENV } from '../../core/button/config';
import { ENV as OBJECT_ENV } from '../../core/s3/config';

export const ENVIRONMENT_CONTEXT_KEYS: Readonly<Record<string, string>> = {
  [BUTTON_ENV.defaultTargets]: 'plugHost',
  [BUTTON_ENV.serialTargets]: 'buttonTargets',
  [BUTTON_ENV.clickActions]: 'clickActions',
  [OBJECT_ENV.targetThings]: 'thingNames',
  [OBJECT_ENV.thingPrefix]: 'keyPrefix',
  [OBJECT_ENV.shadowName]: 'shadowName',
};
