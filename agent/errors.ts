/**
 * Errors of the device agent. Each has a stable `code` (also what goes into
 * `reported.<property>.error.code`) and says whether trying again can help, so the file-sync
 * loop decides between "retry with backoff" and "wait for a new desired value" without
 * parsing messages. A subclass exists only where code catches it by type or it carries data;
 * the other failures are codes on `AgentError`: INVALID_DESIRED, UNSAFE_KEY, FILE_NAME_TOO_LONG,
 * INSTALL_FAILED, CREDENTIALS, SHADOW_REQUEST, SHADOW_UNREACHABLE, REPORT_FAILED, UNEXPECTED,
 * POLICY_REFUSED (a topic the IoT policy refuses), and on AgentConfigError DEST_NOT_WRITABLE and
 * STATE_DIR_NOT_WRITABLE.
 */
import { ShadowplugError } from '../core/errors';
import type { S3ErrorCode } from '../core/s3/s3-errors';
import type { InstalledFile } from './state-store';

export interface AgentErrorOptions {
  code: string;
  retryable: boolean;
  /** The HTTP or shadow status of a refusal (S3_ACCESS_DENIED, a 403 or an expired token, makes the agent refresh its credentials). */
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

/**
 * Bad flags or config file, or a directory the agent cannot write (`DEST_NOT_WRITABLE`,
 * `STATE_DIR_NOT_WRITABLE`); the agent does not start (the CLI exits 2).
 */
export class AgentConfigError extends AgentError {
  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(message, { retryable: false, ...options, code: options.code ?? 'AGENT_CONFIG' });
  }
}

/** The object is (or turned out to be, while streaming) larger than `--max-size`. */
export class ObjectTooLargeError extends AgentError {
  readonly limit: number;
  constructor(where: string, size: number, limit: number, seen: 'declared' | 'received') {
    super(`${where}: ${seen === 'declared' ? 'object size' : 'received'} ${size} bytes exceeds the limit of ${limit} bytes (--max-size)`, {
      code: 'OBJECT_TOO_LARGE',
      retryable: false,
    });
    this.limit = limit;
  }
}

/**
 * The downloaded bytes do not hash to the desired hash. Retried with backoff: the object may be
 * in the middle of being replaced, and a tampered object may be put right.
 */
export class HashMismatchError extends AgentError {
  readonly expected: string;
  readonly actual: string;
  constructor(where: string, expected: string, actual: string) {
    super(`${where}: sha256 ${actual} does not match the desired hash ${expected}`, { code: 'HASH_MISMATCH', retryable: true });
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * Why a download failed: an S3 answer (the codes of `classifyS3Error`, shared with the object
 * Lambda), the body ending early or stalling (`S3_CONNECTION`), or S3's size differing from the
 * desired `size` (`SIZE_MISMATCH`).
 */
export type DownloadErrorCode = S3ErrorCode | 'SIZE_MISMATCH';

/** S3 refused or failed the GetObject. `retryable` follows the status (403 after a credentials refresh, 5xx, network). */
export class DownloadError extends AgentError {
  declare readonly code: DownloadErrorCode;
  constructor(message: string, options: AgentErrorOptions & { code: DownloadErrorCode }) {
    super(message, options);
  }
}

/** A download was abandoned on purpose (newer desired value, agent closing). Never reported. */
export class CancelledError extends AgentError {
  constructor(reason: string) {
    super(`cancelled: ${reason}`, { code: 'CANCELLED', retryable: false });
  }
}

/**
 * The file system holding `path` has less room than the download needs (checked before the first
 * byte, or ENOSPC while writing). Retried once the free space may suffice, not on a timer.
 */
export class DiskFullError extends AgentError {
  readonly path: string;
  /** Bytes the download still needs (the bytes written when ENOSPC struck, if the size is unknown). */
  readonly needed: number;
  readonly free: number;
  constructor(path: string, needed: number, free: number, cause?: unknown) {
    super(`disk full: ${path} needs ${needed} bytes, ${free} bytes free`, { code: 'DISK_FULL', retryable: true, cause });
    this.path = path;
    this.needed = needed;
    this.free = free;
  }
}

/**
 * The file is installed at its final path but `state.json` could not be written (read-only or
 * full state directory). Not downloaded again: the state write is retried until it succeeds.
 */
export class StateWriteError extends AgentError {
  readonly installed: InstalledFile;
  constructor(installed: InstalledFile, cause: unknown) {
    super(`${installed.path} is installed, but the agent's state cannot be written: ${(cause as Error).message}`, { code: 'STATE_NOT_WRITABLE', retryable: false, cause });
    this.installed = installed;
  }
}

/** Writing the file or the state failed locally (disk full, permissions). */
export function installError(message: string, cause: unknown, retryable = true): AgentError {
  return new AgentError(message, { code: 'INSTALL_FAILED', retryable, cause });
}
