/**
 * A setting's value that cannot be used. Carries only the problem: whoever read the value (the
 * environment, CDK context, a command-line flag) wraps it in its own error naming what it read,
 * so no message is ever re-attributed by slicing text.
 */
import { ShadowplugError } from '../errors';

export class SettingValueError extends ShadowplugError {
  /** What is wrong with the value, without naming where it came from. */
  readonly problem: string;
  constructor(problem: string, cause?: unknown) {
    super(problem, { code: 'SETTING_INVALID', retryable: false, cause });
    this.problem = problem;
  }
}
