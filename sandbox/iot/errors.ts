/**
 * Errors of the sandbox IoT Core that callers tell apart (names, certificates, listeners, closed). Shadow request errors
 * live in `core/shadow/errors.ts`: they are part of the protocol, these are not.
 */
import { errorMessage, ShadowplugError } from '../../core/errors';
import { formatHostPort } from '../../core/util/host-port';

/** A thing name, button serial or role alias that IoT Core would refuse. */
export class IotCoreInvalidNameError extends ShadowplugError {
  constructor(kind: string, value: string, rule: string) {
    super(`Invalid ${kind} ${JSON.stringify(value)}: ${rule}`, { code: 'IOT_CORE_INVALID_NAME', retryable: false });
  }
}

/** A PEM file in the CA directory exists but cannot be read or parsed. */
export class IotCoreCertificateError extends ShadowplugError {
  constructor(readonly path: string, message: string, cause?: unknown) {
    super(`${path}: ${message}`, { code: 'IOT_CORE_CERTIFICATE', retryable: false, cause });
  }
}

/** A listener could not be opened (port in use, address not available). */
export class IotCoreListenError extends ShadowplugError {
  constructor(what: string, host: string, port: number, cause: unknown) {
    super(`Cannot listen for ${what} on ${formatHostPort(host, port)}: ${errorMessage(cause)}`, { code: 'IOT_CORE_LISTEN', retryable: true, cause });
  }
}

/** The stand-in was asked to do something after `close()`. */
export class IotCoreClosedError extends ShadowplugError {
  constructor(what: string) {
    super(`The IoT Core stand-in is closed: cannot ${what}`, { code: 'IOT_CORE_CLOSED', retryable: false });
  }
}
