/**
 * Errors of the sandbox IoT Core (names, certificates, listeners, closed): codes on the shared
 * base, a class only for the one that carries a field. Shadow request errors live in
 * `core/shadow/errors.ts`: they are part of the protocol, these are not.
 */
import { errorMessage, ShadowplugError } from '../../core/errors';
import { formatHostPort } from '../../core/util/host-port';

/** A thing name, button serial or role alias that IoT Core would refuse. */
export const iotCoreInvalidName = (kind: string, value: string, rule: string): ShadowplugError =>
  new ShadowplugError(`Invalid ${kind} ${JSON.stringify(value)}: ${rule}`, { code: 'IOT_CORE_INVALID_NAME', retryable: false });

/** A PEM file in the CA directory exists but cannot be read or parsed. */
export class IotCoreCertificateError extends ShadowplugError {
  constructor(readonly path: string, message: string, cause?: unknown) {
    super(`${path}: ${message}`, { code: 'IOT_CORE_CERTIFICATE', retryable: false, cause });
  }
}

/** A listener could not be opened (port in use, address not available). */
export const iotCoreListenError = (what: string, host: string, port: number, cause: unknown): ShadowplugError =>
  new ShadowplugError(`Cannot listen for ${what} on ${formatHostPort(host, port)}: ${errorMessage(cause)}`, { code: 'IOT_CORE_LISTEN', retryable: true, cause });

/** The stand-in was asked to do something after `close()`. */
export const iotCoreClosed = (what: string): ShadowplugError => new ShadowplugError(`The IoT Core stand-in is closed: cannot ${what}`, { code: 'IOT_CORE_CLOSED', retryable: false });
