/** Errors of the sandbox dashboard: requests it refuses, and a dashboard that cannot start. */
import { SandboxError } from '../errors';

/** A request the dashboard refuses; `status` is the HTTP status it answers with. */
export class DashboardRequestError extends SandboxError {
  readonly status: number;
  constructor(status: number, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { code: 'DASHBOARD_REQUEST', retryable: options.retryable ?? false, cause: options.cause });
    this.status = status;
  }
}

/** The dashboard's HTTP server could not listen (the port is taken, or the address is not local). */
export class DashboardListenError extends SandboxError {
  constructor(host: string, port: number, cause: unknown) {
    super(`the dashboard cannot listen on ${host}:${port}: ${(cause as Error)?.message ?? String(cause)}`, {
      code: 'DASHBOARD_LISTEN',
      retryable: true,
      cause,
    });
  }
}

/** The page's files could not be read or its script not compiled (a broken checkout). */
export class DashboardAssetError extends SandboxError {
  constructor(what: string, cause: unknown) {
    super(`the dashboard page cannot be prepared: ${what}: ${(cause as Error)?.message ?? String(cause)}`, {
      code: 'DASHBOARD_ASSETS',
      cause,
    });
  }
}
