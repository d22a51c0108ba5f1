/**
 * Errors of the device agent. Each has a stable `code` (also what goes into
 * `reported.<property>.error.code`) and says whether trying again can help, so the file-sync
 * loop decides between "retry with backoff" and "wait for a new desired value" without
 * parsing messages.
 */
import { ShadowplugError } from '../core/errors';
import type { S3ErrorCode } from '../core/s3/s3-errors';

export class AgentError extends ShadowplugError {}

/** Bad flags or config file; the agent does not start. */
export class AgentConfigError extends AgentError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'AGENT_CONFIG', retryable: false, ...options });
  }
}

/** The desired value in the shadow cannot be acted on (no url/hash, not an s3:// URL, ...). */
export class InvalidDesiredError extends AgentError {
  constructor(message: string) {
    super(message, { code: 'INVALID_DESIRED', retryable: false });
  }
}

/** The object key would not make a safe file name inside the destination directory. */
export class UnsafeKeyError extends AgentError {
  readonly key: string;
  constructor(key: string, reason: string) {
    super(`refusing key ${JSON.stringify(key)}: ${reason}`, { code: 'UNSAFE_KEY', retryable: false });
    this.key = key;
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
  readonly status?: number;
  constructor(message: string, options: { code: DownloadErrorCode; retryable: boolean; status?: number; cause?: unknown }) {
    super(message, options);
    if (options.status !== undefined) this.status = options.status;
  }
}

/** The IoT credentials provider did not give us credentials. */
export class CredentialsError extends AgentError {
  readonly status?: number;
  constructor(message: string, options: { retryable: boolean; status?: number; cause?: unknown }) {
    super(message, { code: 'CREDENTIALS', ...options });
    if (options.status !== undefined) this.status = options.status;
  }
}

/**
 * The destination file system refuses the file's name (ENAMETOOLONG: names longer than it allows,
 * e.g. 143 bytes on eCryptfs). The same name can never be installed there: not retried.
 */
export class NameTooLongError extends AgentError {
  constructor(path: string, cause?: unknown) {
    super(`cannot install ${path}: the destination file system does not accept a file name this long (rename the object's key)`, {
      code: 'FILE_NAME_TOO_LONG',
      retryable: false,
      cause,
    });
  }
}

/** Writing the file or the state failed locally (disk full, permissions). */
export class InstallError extends AgentError {
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, { code: 'INSTALL_FAILED', retryable: options.retryable ?? true, cause: options.cause });
  }
}

/** The shadow service rejected a request or did not answer in time. */
export class ShadowRequestError extends AgentError {
  readonly status?: number;
  constructor(message: string, options: { status?: number; retryable: boolean; cause?: unknown }) {
    super(message, { code: 'SHADOW_REQUEST', retryable: options.retryable, cause: options.cause });
    if (options.status !== undefined) this.status = options.status;
  }
}

/** A download was abandoned on purpose (newer desired value, agent closing). Never reported. */
export class CancelledError extends AgentError {
  constructor(reason: string) {
    super(`cancelled: ${reason}`, { code: 'CANCELLED', retryable: false });
  }
}
