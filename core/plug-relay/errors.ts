/** Errors of the plug relay; its other failures are `ShadowplugError` codes (PLUG_REQUEST_EXPIRED, …). */
import { ConfigError, ShadowplugError } from '../errors';

/** A plug configuration entry that is wrong: names the entry and what is wrong with it. */
export function plugConfigError(entry: string, problem: string, cause?: unknown): ConfigError {
  return new ConfigError('PLUG_CONFIG_INVALID', `plug "${entry}"`, problem, cause);
}

/** A `desired` section of a plug shadow that is not a valid request (not retried: the same value fails again). */
export class PlugDesiredError extends ShadowplugError {
  readonly field: string;
  constructor(shadowName: string, field: string, problem: string) {
    super(`${shadowName}: desired.${field} ${problem}`, { code: 'PLUG_DESIRED_INVALID', retryable: false });
    this.field = field;
  }
}
