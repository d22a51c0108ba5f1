/**
 * Errors of the sandbox: classes for those that carry fields, the rest a ShadowplugError with a
 * code; the IoT Core stand-in's own are in `sandbox/iot/errors.ts`.
 */
import { ShadowplugError } from '../core/errors';

/** No sandbox is running for a directory (no `sandbox.json`, or the process that wrote it is gone). */
export class SandboxNotRunningError extends ShadowplugError {
  constructor(readonly dir: string, detail: string) {
    super(`No sandbox is running in ${dir}: ${detail}. Start one with \`npx shadowplug sandbox --dir ${dir}\`.`, { code: 'SANDBOX_NOT_RUNNING', retryable: true });
  }
}

/** Another live sandbox already owns the directory. */
export const sandboxAlreadyRunning = (dir: string, pid: number): ShadowplugError =>
  new ShadowplugError(`A sandbox (pid ${pid}) is already running in ${dir}; stop it first or choose another --dir.`, { code: 'SANDBOX_ALREADY_RUNNING', retryable: false });

/** An option of the sandbox command or API that cannot work, named with the value given. */
export const sandboxConfigError = (message: string, options: { cause?: unknown } = {}): ShadowplugError =>
  new ShadowplugError(message, { code: 'SANDBOX_CONFIG', retryable: false, cause: options.cause });

/** The sandbox's state directory (`--dir`) cannot be created or written; named, with the reason. */
export class SandboxDirError extends ShadowplugError {
  constructor(readonly dir: string, reason: string, cause?: unknown) {
    super(`Cannot use ${dir} as the sandbox directory: ${reason}. Choose a writable --dir.`, { code: 'SANDBOX_DIR', retryable: false, cause });
  }
}

/** An upload to the sandbox's bucket failed (file unreadable, bad key, S3 refused). */
export const sandboxUploadError = (message: string, options: { retryable?: boolean; cause?: unknown; code?: string } = {}): ShadowplugError =>
  new ShadowplugError(message, { code: options.code ?? 'SANDBOX_UPLOAD', retryable: options.retryable ?? false, cause: options.cause });

/** A key every device would refuse to install (the agent's rule, `installNameRefusal`): not uploaded. */
export class UnsafeKeyError extends ShadowplugError {
  constructor(readonly key: string, readonly reason: string) {
    super(`Refusing to upload ${JSON.stringify(key)}: no device would install it, because ${reason}`, { code: 'UNSAFE_KEY', retryable: false });
  }
}

/** A request the dashboard refuses; `status` is the HTTP status it answers with. */
export class DashboardRequestError extends ShadowplugError {
  constructor(readonly status: number, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { code: 'DASHBOARD_REQUEST', retryable: options.retryable ?? false, cause: options.cause });
  }
}

/** A wait on the sandbox (plug state, shadow report) that ran out of time, naming what it waited for. */
export const sandboxTimeout = (what: string, timeoutMs: number): ShadowplugError =>
  new ShadowplugError(`Timed out after ${timeoutMs} ms waiting for ${what}`, { code: 'SANDBOX_TIMEOUT', retryable: true });
