/**
 * Errors of the sandbox IoT Core (configuration, certificates, listeners). Shadow request errors
 * live in `core/shadow/errors.ts`: they are part of the protocol, these are not.
 */
import { ShadowplugError } from '../../core/errors';

export class IotCoreError extends ShadowplugError {
  constructor(message: string, options: { code?: string; retryable?: boolean; cause?: unknown } = {}) {
    super(message, { code: options.code ?? 'IOT_CORE', retryable: options.retryable ?? false, cause: options.cause });
  }
}

/** A thing name, button serial or role alias that IoT Core would refuse. */
export class IotCoreInvalidNameError extends IotCoreError {
  constructor(kind: string, value: string, rule: string) {
    super(`Invalid ${kind} ${JSON.stringify(value)}: ${rule}`, { code: 'IOT_CORE_INVALID_NAME' });
  }
}

/** A PEM file in the CA directory exists but cannot be read or parsed. */
export class IotCoreCertificateError extends IotCoreError {
  readonly path: string;
  constructor(path: string, message: string, cause?: unknown) {
    super(`${path}: ${message}`, { code: 'IOT_CORE_CERTIFICATE', cause });
    this.path = path;
  }
}

/** A listener could not be opened (port in use, address not available). */
export class IotCoreListenError extends IotCoreError {
  constructor(what: string, host: string, port: number, cause: unknown) {
    super(`Cannot listen for ${what} on ${host}:${port}: ${(cause as Error)?.message ?? String(cause)}`, {
      code: 'IOT_CORE_LISTEN',
      retryable: true,
      cause,
    });
  }
}

/** The stand-in was asked to do something after `close()`. */
export class IotCoreClosedError extends IotCoreError {
  constructor(what: string) {
    super(`The IoT Core stand-in is closed: cannot ${what}`, { code: 'IOT_CORE_CLOSED' });
  }
}
