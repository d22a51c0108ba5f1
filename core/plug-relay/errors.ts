/**
 * Errors of the plug relay (the plug shadow contract, plug configuration, the agent's plug
 * capability and the button's relay driver). Each keeps its `cause` and says whether a retry helps.
 */
import { ShadowplugError } from '../errors';

export class PlugRelayError extends ShadowplugError {}

/** A plug configuration entry that is wrong: names the entry and what is wrong with it. */
export class PlugConfigError extends PlugRelayError {
  readonly entry: string;
  constructor(entry: string, problem: string, cause?: unknown) {
    super(`plug "${entry}": ${problem}`, { code: 'PLUG_CONFIG_INVALID', retryable: false, cause });
    this.entry = entry;
  }
}

/** A `desired` section of a plug shadow that is not a valid request (not retried: the same value fails again). */
export class PlugDesiredError extends PlugRelayError {
  readonly field: string;
  constructor(shadowName: string, field: string, problem: string) {
    super(`${shadowName}: desired.${field} ${problem}`, { code: 'PLUG_DESIRED_INVALID', retryable: false });
    this.field = field;
  }
}

/** A request older than the click age limit when the hub saw it: not applied. */
export class PlugRequestExpiredError extends PlugRelayError {
  constructor(shadowName: string, requestId: string, ageMs: number, limitMs: number) {
    super(`${shadowName}: request ${requestId} is ${Math.round(ageMs / 1000)} s old, over the ${limitMs / 1000} s limit; not applied`, {
      code: 'PLUG_REQUEST_EXPIRED',
      retryable: false,
    });
  }
}

/** The button's relay driver: no plug is configured for a target, or its shadow could not be read or written. */
export class PlugShadowError extends PlugRelayError {
  constructor(message: string, options: { code?: string; retryable: boolean; cause?: unknown }) {
    super(message, { code: options.code ?? 'PLUG_SHADOW_FAILED', retryable: options.retryable, cause: options.cause });
  }
}
