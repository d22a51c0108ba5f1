import { ShadowplugError } from '../core/errors';

/**
 * A CDK context value (cdk.json or `-c key=value`) that cannot be deployed. Thrown at synth time,
 * before anything is built, and always names the key so the fix is obvious.
 */
export class ContextError extends ShadowplugError {
  /** The context key that was wrong, e.g. `plugHost`. */
  readonly key: string;

  constructor(key: string, problem: string, options: { cause?: unknown } = {}) {
    super(`context "${key}": ${problem}`, { code: 'CDK_BAD_CONTEXT', retryable: false, cause: options.cause });
    this.key = key;
  }
}
