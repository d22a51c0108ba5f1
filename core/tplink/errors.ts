/**
 * Errors of the TP-Link local protocol. Every error that concerns a device names it
 * (`host`, `port`) and says whether trying again can help (`retryable`), so a Lambda can decide
 * to throw for Lambda's own retry and a CLI can print one line without parsing messages.
 */
import { ShadowplugError } from '../errors';

/** Where a device listens. */
export interface TplinkEndpoint {
  host: string;
  port: number;
}

/** `host:port`, bracketing IPv6 literals. */
export function formatEndpoint(endpoint: TplinkEndpoint): string {
  return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

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

/**
 * Phases of a timeout: `connect` (no connection in time), `request` (no complete reply in time),
 * `queue` (another operation of this process held the device for the whole time allowed).
 */
export type TplinkTimeoutPhase = 'connect' | 'request' | 'queue';

/** The device did not accept the connection, or did not answer, in time. Often a plug that is offline. */
export class TplinkTimeoutError extends TplinkError {
  readonly phase: TplinkTimeoutPhase;
  readonly timeoutMs: number;

  constructor(endpoint: TplinkEndpoint, phase: TplinkTimeoutPhase, timeoutMs: number, cause?: unknown) {
    super(endpoint, timeoutMessage(phase, timeoutMs), { code: 'TPLINK_TIMEOUT', retryable: true, cause });
    this.phase = phase;
    this.timeoutMs = timeoutMs;
  }
}

function timeoutMessage(phase: TplinkTimeoutPhase, timeoutMs: number): string {
  switch (phase) {
    case 'connect':
      return `no connection within ${timeoutMs} ms (is the plug online and on this network?)`;
    case 'request':
      return `no complete reply within ${timeoutMs} ms`;
    case 'queue':
      return `waited ${timeoutMs} ms for another operation on the same device (in this process) to finish; gave up without connecting`;
  }
}

/**
 * Nothing listens on the port. Not retryable: the usual reasons are a wrong address or a plug on
 * 2020+ firmware, which speaks KLAP (HTTP port 80, handshake + AES) and no longer listens on 9999.
 */
export class TplinkConnectionRefusedError extends TplinkError {
  constructor(endpoint: TplinkEndpoint, cause?: unknown) {
    super(
      endpoint,
      'connection refused. Check the address; plugs on 2020+ firmware speak the KLAP protocol on HTTP port 80 ' +
        'and no longer listen on port 9999 (not supported yet)',
      { code: 'TPLINK_CONNECTION_REFUSED', retryable: false, cause },
    );
  }
}

/** The connection broke (reset, or closed before the reply was complete). A retry may succeed. */
export class TplinkConnectionResetError extends TplinkError {
  constructor(endpoint: TplinkEndpoint, detail: string, cause?: unknown) {
    super(endpoint, detail, { code: 'TPLINK_CONNECTION_RESET', retryable: true, cause });
  }
}

/** Any other network failure: unreachable host, unknown name, … */
export class TplinkNetworkError extends TplinkError {
  readonly syscallCode: string | undefined;

  constructor(endpoint: TplinkEndpoint, detail: string, syscallCode: string | undefined, retryable: boolean, cause?: unknown) {
    super(endpoint, detail, { code: 'TPLINK_NETWORK', retryable, cause });
    this.syscallCode = syscallCode;
  }
}

export type TplinkProtocolReason = 'oversize' | 'bad-frame' | 'bad-json' | 'unexpected-reply';

/** The device sent something that is not a valid reply: oversize frame, bad JSON, missing fields. */
export class TplinkProtocolError extends TplinkError {
  readonly reason: TplinkProtocolReason;

  constructor(endpoint: TplinkEndpoint, reason: TplinkProtocolReason, detail: string, cause?: unknown) {
    super(endpoint, `protocol error (${reason}): ${detail}`, { code: 'TPLINK_PROTOCOL', retryable: false, cause });
    this.reason = reason;
  }
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

/**
 * The codec's own error (it knows no host): a declared frame length above the limit.
 * Transports wrap it in a {@link TplinkProtocolError}.
 */
export class FrameTooLargeError extends ShadowplugError {
  readonly declaredLength: number;
  readonly maxLength: number;

  constructor(declaredLength: number, maxLength: number) {
    super(`frame declares ${declaredLength} bytes, above the limit of ${maxLength}`, {
      code: 'TPLINK_FRAME_TOO_LARGE',
      retryable: false,
    });
    this.declaredLength = declaredLength;
    this.maxLength = maxLength;
  }
}
