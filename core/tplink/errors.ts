/** Errors of the TP-Link local protocols: each names the device (`host`, `port`). */
import { ShadowplugError } from '../errors';
import { formatHostPort } from '../util/host-port';

/** Where a device listens. */
export interface TplinkEndpoint {
  host: string;
  port: number;
}

/** `host:port`, bracketing IPv6 literals. */
export function formatEndpoint(endpoint: TplinkEndpoint): string {
  return formatHostPort(endpoint.host, endpoint.port);
}

/**
 * A failure talking to one device. Subclasses exist where callers tell failures apart by type or
 * read their fields; the rest are codes: `TPLINK_CONNECTION_RESET`, `TPLINK_NETWORK`, `TPLINK_SESSION`.
 */
export class TplinkError extends ShadowplugError {
  readonly host: string;
  readonly port: number;

  constructor(
    endpoint: TplinkEndpoint,
    message: string,
    options: { code: string; retryable: boolean; cause?: unknown },
  ) {
    super(`${formatEndpoint(endpoint)}: ${message}`, options);
    this.host = endpoint.host;
    this.port = endpoint.port;
  }

  override toJSON(): { name: string; code: string; message: string; retryable: boolean; host: string; port: number } {
    return { ...super.toJSON(), host: this.host, port: this.port };
  }
}

/** `queue`: another operation of this process held the device for the whole time allowed. */
export type TplinkTimeoutPhase = 'connect' | 'request' | 'queue';

const TIMEOUT_MESSAGES: Record<TplinkTimeoutPhase, (ms: number) => string> = {
  connect: (ms) => `no connection within ${ms} ms (is the plug online and on this network?)`,
  request: (ms) => `no complete reply within ${ms} ms`,
  queue: (ms) => `waited ${ms} ms for another operation on the same device (in this process) to finish; gave up without connecting`,
};

/** The device did not accept the connection, or did not answer, in time. Often a plug that is offline. */
export class TplinkTimeoutError extends TplinkError {
  readonly phase: TplinkTimeoutPhase;
  readonly timeoutMs: number;

  constructor(endpoint: TplinkEndpoint, phase: TplinkTimeoutPhase, timeoutMs: number, cause?: unknown) {
    super(endpoint, TIMEOUT_MESSAGES[phase](timeoutMs), { code: 'TPLINK_TIMEOUT', retryable: true, cause });
    this.phase = phase;
    this.timeoutMs = timeoutMs;
  }
}

/** Nothing listens: a wrong address, or 2020+ firmware that speaks KLAP or AES on port 80 instead of 9999. */
export class TplinkConnectionRefusedError extends TplinkError {
  constructor(endpoint: TplinkEndpoint, cause?: unknown) {
    super(
      endpoint,
      'connection refused. Check the address and port; plugs on 2020+ firmware speak KLAP or AES on HTTP ' +
        'port 80 and no longer listen on port 9999 (try --protocol klap or aes, or leave --protocol out to detect)',
      { code: 'TPLINK_CONNECTION_REFUSED', retryable: false, cause },
    );
  }
}

export type TplinkProtocolReason =
  | 'oversize'
  | 'bad-frame'
  | 'bad-json'
  | 'unexpected-reply'
  | 'http-status'
  | 'bad-signature'
  | 'decrypt';

/** The device sent something that is not a valid reply: oversize frame, bad JSON, missing fields. */
export class TplinkProtocolError extends TplinkError {
  readonly reason: TplinkProtocolReason;

  constructor(endpoint: TplinkEndpoint, reason: TplinkProtocolReason, detail: string, cause?: unknown) {
    super(endpoint, `protocol error (${reason}): ${detail}`, { code: 'TPLINK_PROTOCOL', retryable: false, cause });
    this.reason = reason;
  }
}

/** Not this kind of device (nothing there, or something else answering): detection tries the next kind. */
export function notThisKind(err: unknown): boolean {
  // A reset is not a sign: an XOR plug that drops a reply is still an XOR plug.
  if (err instanceof TplinkConnectionRefusedError) return true;
  if (err instanceof TplinkTimeoutError) return err.phase === 'connect';
  if (err instanceof TplinkProtocolError) return ['oversize', 'bad-frame', 'bad-json', 'http-status', 'unexpected-reply'].includes(err.reason);
  return false;
}

/** The device answered with a non-zero `err_code`, e.g. -1 "module not support", -14 "entry not exist". */
export class TplinkDeviceError extends TplinkError {
  readonly errCode: number;
  readonly errMsg: string | undefined;
  /** Which part of the reply carried the error, e.g. `system.set_relay_state`. */
  readonly method: string;

  constructor(endpoint: TplinkEndpoint, method: string, errCode: number, errMsg: string | undefined) {
    super(endpoint, `device error ${errCode}${errMsg ? ` "${errMsg}"` : ''} in ${method}`, {
      code: 'TPLINK_DEVICE_ERROR',
      retryable: false,
    });
    this.errCode = errCode;
    this.errMsg = errMsg;
    this.method = method;
  }
}

/** The caller asked for something this device does not have (an outlet of a plain plug, outlet 7 of six). */
export class TplinkChildNotFoundError extends TplinkError {
  readonly child: string | number;

  constructor(endpoint: TplinkEndpoint, child: string | number, detail: string) {
    super(endpoint, `no outlet ${JSON.stringify(child)}: ${detail}`, { code: 'TPLINK_CHILD_NOT_FOUND', retryable: false });
    this.child = child;
  }
}

/** The device refuses the credentials (KLAP handshake, AES login, SMART codes): fix the TP-Link account. */
export class TplinkAuthenticationError extends TplinkError {
  constructor(endpoint: TplinkEndpoint, detail: string, cause?: unknown) {
    super(endpoint, `authentication failed: ${detail}`, { code: 'TPLINK_AUTH', retryable: false, cause });
  }
}

/** SMART: the device blocks logins for a while after too many refused ones. */
export const SMART_DEVICE_BLOCKED = -40404;

/** -40404: no login for `secondsLeft`, and each attempt may extend it; an authentication failure, so callers stop. */
export function deviceBlocked(endpoint: TplinkEndpoint, secondsLeft: number | undefined, note?: string): TplinkAuthenticationError {
  const wait =
    secondsLeft !== undefined && secondsLeft > 0 ? `for another ${Math.ceil(secondsLeft)} s (about ${Math.ceil(secondsLeft / 60)} min)` : 'for a while';
  return new TplinkAuthenticationError(
    endpoint,
    `the device blocks logins ${wait} after too many refused ones (error -40404)${note ? `; ${note}` : ''}; fix the TP-Link account email and password, then wait`,
  );
}

/** The connection broke (reset, or closed before the reply was complete). A retry may succeed. */
export function connectionReset(endpoint: TplinkEndpoint, detail: string, cause?: unknown): TplinkError {
  return new TplinkError(endpoint, detail, { code: 'TPLINK_CONNECTION_RESET', retryable: true, cause });
}

/** The device dropped our session again right after a fresh handshake (KLAP 403, AES 9999). */
export function sessionRefused(endpoint: TplinkEndpoint, detail: string, cause?: unknown): TplinkError {
  return new TplinkError(endpoint, `session refused: ${detail}`, { code: 'TPLINK_SESSION', retryable: true, cause });
}

/** A reply's JSON; `what` names the reply in the error. */
export function parseReplyJson(endpoint: TplinkEndpoint, bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (err) {
    throw new TplinkProtocolError(endpoint, 'bad-json', `${what} of ${bytes.length} bytes is not JSON`, err);
  }
}

export function transportClosed(endpoint: TplinkEndpoint): TplinkError {
  return connectionReset(endpoint, 'transport is closed');
}

export function isResetCode(code: string | undefined): boolean {
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED';
}

/** Turns a socket error into the TplinkError that says what happened and whether to retry. */
export function mapSocketError(endpoint: TplinkEndpoint, err: Error, phase: 'connect' | 'request', timeoutMs: number): TplinkError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return new TplinkConnectionRefusedError(endpoint, err);
  if (isResetCode(code)) return connectionReset(endpoint, `connection reset (${code})`, err);
  if (code === 'ETIMEDOUT') return new TplinkTimeoutError(endpoint, phase, timeoutMs, err);
  const detail = code === 'ENOTFOUND' ? `host name not found (${code})` : `network error: ${err.message}`;
  return new TplinkError(endpoint, detail, { code: 'TPLINK_NETWORK', retryable: code !== 'ENOTFOUND', cause: err });
}

/** SMART error codes that a retry may get past (session timeout, transport busy). */
const SMART_RETRYABLE_CODES: ReadonlySet<number> = new Set([9999, 1002, 1112, -1001, -40401, -40413]);
/** SMART error codes meaning the credentials or the session key were refused. */
export const SMART_AUTHENTICATION_CODES: ReadonlySet<number> = new Set([-1501, 1111, 1100, -1005, 1003, -40412]);

/** A SMART-protocol device answered a method with a non-zero `error_code`. */
export class TplinkSmartError extends TplinkError {
  readonly errorCode: number;
  readonly method: string;

  constructor(endpoint: TplinkEndpoint, method: string, errorCode: number) {
    super(endpoint, `device error ${errorCode} (${smartErrorName(errorCode)}) in ${method}`, {
      code: 'TPLINK_DEVICE_ERROR',
      retryable: SMART_RETRYABLE_CODES.has(errorCode),
    });
    this.errorCode = errorCode;
    this.method = method;
  }
}

const SMART_ERROR_NAMES: Record<number, string> = {
  9999: 'session timeout',
  1002: 'transport not available',
  1112: 'HTTP transport failed',
  1003: 'unknown credentials',
  1100: 'handshake failed',
  1111: 'login failed',
  [-1]: 'failed',
  [-1001]: 'unspecific error',
  [-1002]: 'unknown method',
  [-1003]: 'JSON decode failed',
  [-1005]: 'AES decode failed',
  [-1008]: 'bad parameters',
  [-1501]: 'login error',
  [-40404]: 'device blocked',
};

export function smartErrorName(code: number): string {
  return SMART_ERROR_NAMES[code] ?? 'unknown';
}
