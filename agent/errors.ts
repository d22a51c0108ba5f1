/**
 * Errors of the device agent. Each has a stable `code` (also what `reported.<property>.error.code`
 * carries) and says whether trying again can help, so the file-sync loop chooses between "retry
 * with backoff" and "wait for a new desired value" without parsing messages. A subclass exists
 * only where code catches it by type or it carries data; other failures are codes on AgentError:
 * INVALID_DESIRED, UNSAFE_KEY, FILE_NAME_TOO_LONG, INSTALL_FAILED, CREDENTIALS, SHADOW_REQUEST,
 * SHADOW_UNREACHABLE, REPORT_FAILED, UNEXPECTED, POLICY_REFUSED, and on AgentConfigError
 * DEST_NOT_WRITABLE and STATE_DIR_NOT_WRITABLE.
 */
import { ShadowplugError } from '../core/errors';
import type { S3ErrorCode } from '../core/s3/s3-errors';
import type { InstalledFile } from './state-store';

export interface AgentErrorOptions {
  code: string;
  retryable: boolean;
  /** The HTTP or shadow status of a refusal (S3_ACCESS_DENIED makes the agent refresh its credentials). */
  status?: number;
  cause?: unknown;
}

export class AgentError extends ShadowplugError {
  readonly status?: number;
  constructor(message: string, options: AgentErrorOptions) {
    super(message, options);
    if (options.status !== undefined) this.status = options.status;
  }
}

/** Bad flags or config file, or a directory the agent cannot write: the agent does not start (the CLI exits 2). */
export class AgentConfigError extends AgentError {
  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(message, { retryable: false, ...options, code: options.code ?? 'AGENT_CONFIG' });
  }
}

/** The object is (or turned out to be, while streaming) larger than `--max-size`. */
export class ObjectTooLargeError extends AgentError {
  constructor(where: string, size: number, limit: number, seen: 'declared' | 'received') {
    const what = seen === 'declared' ? 'object size' : 'received';
    super(`${where}: ${what} ${size} bytes exceeds the limit of ${limit} bytes (--max-size)`, { code: 'OBJECT_TOO_LARGE', retryable: false });
  }
}

/** The bytes do not hash to the desired hash. Retried: the object may be in the middle of being replaced. */
export class HashMismatchError extends AgentError {
  constructor(
    where: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${where}: sha256 ${actual} does not match the desired hash ${expected}`, { code: 'HASH_MISMATCH', retryable: true });
  }
}

/**
 * S3 refused or failed the GetObject (the codes of `classifyS3Error`, shared with the object
 * Lambda), the body ended early or stalled (`S3_CONNECTION`), or S3's size differs from the
 * desired `size` (`SIZE_MISMATCH`).
 */
export class DownloadError extends AgentError {
  declare readonly code: S3ErrorCode | 'SIZE_MISMATCH';
  constructor(message: string, options: AgentErrorOptions & { code: S3ErrorCode | 'SIZE_MISMATCH' }) {
    super(message, options);
  }
}

/** A download was abandoned on purpose (newer desired value, agent closing). Never reported. */
export class CancelledError extends AgentError {
  constructor(reason: string) {
    super(`cancelled: ${reason}`, { code: 'CANCELLED', retryable: false });
  }
}

/** Less room than the download needs (before the first byte, or ENOSPC): retried once the free space may suffice. */
export class DiskFullError extends AgentError {
  /** `needed`: bytes the download still needs (those written when ENOSPC struck, if the size is unknown). */
  constructor(
    readonly path: string,
    readonly needed: number,
    free: number,
    cause?: unknown,
  ) {
    super(`disk full: ${path} needs ${needed} bytes, ${free} bytes free`, { code: 'DISK_FULL', retryable: true, cause });
  }
}

/** The file is installed but `state.json` could not be written: the state write is retried, not the download. */
export class StateWriteError extends AgentError {
  constructor(
    readonly installed: InstalledFile,
    cause: unknown,
  ) {
    super(`${installed.path} is installed, but the agent's state cannot be written: ${(cause as Error).message}`, { code: 'STATE_NOT_WRITABLE', retryable: false, cause });
  }
}

/** Writing the file or the state failed locally (disk full, permissions). */
export function installError(message: string, cause: unknown, retryable = true): AgentError {
  return new AgentError(message, { code: 'INSTALL_FAILED', retryable, cause });
}
