/**
 * The button errors that carry data (other failures are codes: BUTTON_CONFIG_INVALID,
 * BUTTON_NOTIFY_FAILED, BUTTON_PUBLISH_FAILED). The handler turns them into an outcome, never throws them.
 */
import { ShadowplugError } from '../errors';
import { formatTarget, type PlugTarget } from './targets';

/** An event of no shape we know: says what was missing or wrong. */
export class ButtonEventError extends ShadowplugError {
  /** The path of the missing or bad field, e.g. `clickType` or `Records[0].Sns.Message`. */
  readonly field: string;
  constructor(field: string, problem: string, cause?: unknown) {
    super(`button event rejected: ${field} ${problem}`, { code: 'BUTTON_EVENT_INVALID', retryable: false, cause });
    this.field = field;
  }
}

/** One plug (or outlet) could not be read or switched. `cause` is the transport's typed error. */
export class ButtonTargetError extends ShadowplugError {
  readonly host: string;
  readonly port: number;
  readonly child?: string | number;
  constructor(target: PlugTarget, step: string, cause: unknown) {
    const where = formatTarget(target);
    let why = cause instanceof Error ? cause.message : String(cause);
    // TP-Link errors already start with "host:port: "; say it once.
    const prefix = `${formatTarget({ host: target.host, port: target.port })}: `;
    if (why.startsWith(prefix)) why = why.slice(prefix.length);
    const retryable = (cause as { retryable?: unknown } | undefined)?.retryable === true;
    super(`plug ${where}: ${step} failed: ${why}`, { code: 'BUTTON_TARGET_FAILED', retryable, cause });
    this.host = target.host;
    this.port = target.port;
    if (target.child !== undefined) this.child = target.child;
  }

  /** Outcomes are returned as JSON: keep where it failed and why. */
  override toJSON(): ReturnType<ShadowplugError['toJSON']> & { host: string; port: number; child?: string | number; cause?: unknown } {
    const cause = this.cause as { name?: unknown; code?: unknown; message?: unknown } | undefined;
    return {
      ...super.toJSON(),
      host: this.host,
      port: this.port,
      ...(this.child === undefined ? {} : { child: this.child }),
      ...(cause === undefined ? {} : { cause: { name: cause.name, code: cause.code, message: cause.message } }),
    };
  }
}

/** Why the plug credentials secret could not be used (its code: `BUTTON_SECRET_ACCESS_DENIED`, ...). */
export type SecretProblem = 'missing' | 'access-denied' | 'malformed' | 'refused' | 'unavailable';

/**
 * The credentials secret (direct mode) could not be read or is malformed. Names the secret, never
 * its value; retryable only when Secrets Manager itself failed (throttling, 5xx, network).
 */
export class ButtonSecretError extends ShadowplugError {
  readonly secretId: string;
  readonly problem: SecretProblem;
  constructor(secretId: string, problem: SecretProblem, detail: string, cause?: unknown) {
    const code = `BUTTON_SECRET_${problem.toUpperCase().replace('-', '_')}`;
    super(`plug credentials secret "${secretId}": ${detail}`, { code, retryable: problem === 'unavailable', cause });
    this.secretId = secretId;
    this.problem = problem;
  }
}
