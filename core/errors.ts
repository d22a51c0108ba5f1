/**
 * Base of every error shadowplug throws on purpose: a stable code, the underlying `cause`, and
 * whether trying again can help, so callers (a Lambda's retry, the agent's backoff) never parse messages.
 */
export class ShadowplugError extends Error {
  /** A stable machine-readable code, e.g. `TPLINK_TIMEOUT`, `S3_ACCESS_DENIED`. */
  readonly code: string;
  /** True when the same call may succeed later without anything being changed. */
  readonly retryable: boolean;

  constructor(message: string, options: { code: string; retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.retryable = options.retryable;
  }

  toJSON(): { name: string; code: string; message: string; retryable: boolean } {
    return { name: this.name, code: this.code, message: this.message, retryable: this.retryable };
  }
}

/** Bad configuration: names the variable (environment variable, settings field, flag, plug entry) that is wrong. */
export class ConfigError extends ShadowplugError {
  readonly variable: string;
  constructor(code: string, variable: string, problem: string, cause?: unknown) {
    super(`${variable}: ${problem}`, { code, retryable: false, cause });
    this.variable = variable;
  }
}

/** The message of anything thrown, for log lines and one-line CLI failures. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
