/** How socket failures become TplinkErrors that say what happened and whether to retry. */
import {
  TplinkError,
  TplinkConnectionRefusedError,
  TplinkConnectionResetError,
  TplinkNetworkError,
  TplinkTimeoutError,
  type TplinkEndpoint,
} from './errors';

/** The error a connect fails with when its signal aborts: the abort's reason, else a request timeout. */
export function abortError(endpoint: TplinkEndpoint, signal: AbortSignal, requestTimeoutMs: number): TplinkError {
  const reason: unknown = signal.reason;
  return reason instanceof TplinkError ? reason : new TplinkTimeoutError(endpoint, 'request', requestTimeoutMs);
}

export function isResetCode(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED';
}

/** Turns a socket error into the TplinkError that says what happened and whether to retry. */
export function mapSocketError(
  endpoint: TplinkEndpoint,
  err: Error,
  phase: 'connect' | 'request',
  timeoutMs: number,
): TplinkError {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ECONNREFUSED':
      return new TplinkConnectionRefusedError(endpoint, err);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return new TplinkConnectionResetError(endpoint, `connection reset (${code})`, err);
    case 'ETIMEDOUT':
      return new TplinkTimeoutError(endpoint, phase, timeoutMs, err);
    case 'ENOTFOUND':
      return new TplinkNetworkError(endpoint, `host name not found (${code})`, code, false, err);
    default:
      return new TplinkNetworkError(endpoint, `network error: ${err.message}`, code, true, err);
  }
}
