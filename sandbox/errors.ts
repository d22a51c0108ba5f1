/**
 * Errors of the sandbox composition and of `shadowplug sandbox upload`. The stand-ins it composes
 * have their own (`sandbox/iot/errors.ts`); these are about finding, starting and using a sandbox.
 */
import { ShadowplugError } from '../core/errors';

export class SandboxError extends ShadowplugError {
  constructor(message: string, options: { code?: string; retryable?: boolean; cause?: unknown } = {}) {
    super(message, { code: options.code ?? 'SANDBOX', retryable: options.retryable ?? false, cause: options.cause });
  }
}

/** No sandbox is running for a directory (no `sandbox.json`, or the process that wrote it is gone). */
export class SandboxNotRunningError extends SandboxError {
  readonly dir: string;
  constructor(dir: string, detail: string) {
    super(`No sandbox is running in ${dir}: ${detail}. Start one with \`npx shadowplug sandbox --dir ${dir}\`.`, {
      code: 'SANDBOX_NOT_RUNNING',
      retryable: true,
    });
    this.dir = dir;
  }
}

/** Another live sandbox already owns the directory. */
export class SandboxAlreadyRunningError extends SandboxError {
  constructor(dir: string, pid: number) {
    super(`A sandbox (pid ${pid}) is already running in ${dir}; stop it first or choose another --dir.`, {
      code: 'SANDBOX_ALREADY_RUNNING',
    });
  }
}

/** An option of the sandbox command or API that cannot work, named with the value given. */
export class SandboxConfigError extends SandboxError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'SANDBOX_CONFIG', cause: options.cause });
  }
}

/** The sandbox's state directory (`--dir`) cannot be created or written; named, with the reason. */
export class SandboxDirError extends SandboxError {
  readonly dir: string;
  constructor(dir: string, reason: string, cause?: unknown) {
    super(`Cannot use ${dir} as the sandbox directory: ${reason}. Choose a writable --dir.`, { code: 'SANDBOX_DIR', cause });
    this.dir = dir;
  }
}

/** An upload to the sandbox's bucket failed (file unreadable, bad key, S3 refused). */
export class SandboxUploadError extends SandboxError {
  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { code: 'SANDBOX_UPLOAD', retryable: options.retryable ?? false, cause: options.cause });
  }
}

/** A wait on the sandbox (plug state, shadow report) ran out of time; says what it waited for. */
export class SandboxTimeoutError extends SandboxError {
  constructor(what: string, timeoutMs: number) {
    super(`Timed out after ${timeoutMs} ms waiting for ${what}`, { code: 'SANDBOX_TIMEOUT', retryable: true });
  }
}
