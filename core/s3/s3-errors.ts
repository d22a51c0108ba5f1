/**
 * The object-to-shadow errors that code catches by type or that carry data (shadow write failures
 * are codes: SHADOW_CONFLICT, SHADOW_THROTTLED, SHADOW_SERVICE, ...), and the one mapping of AWS SDK
 * S3 failures, for the object Lambda, the publisher and the device agent alike: the same code and
 * the same answer to "may the same request succeed later?". Pure.
 */
import { ShadowplugError } from '../errors';

/** A record of an S3 event notification does not have the shape S3 sends. */
export class S3EventRecordError extends ShadowplugError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'S3_EVENT_INVALID', retryable: false, cause });
  }
}

/**
 * A failure reading one object: S3_OBJECT_MISSING and S3_OBJECT_CHANGED have their own class (the
 * handler skips them), the others (S3_ACCESS_DENIED, S3_THROTTLED, S3_READ_FAILED, ...) are codes.
 */
export class S3ObjectError extends ShadowplugError {
  readonly bucket: string;
  readonly key: string;
  constructor(message: string, bucket: string, key: string, options: { code: string; retryable: boolean; cause?: unknown }) {
    super(`s3://${bucket}/${key}: ${message}`, options);
    this.bucket = bucket;
    this.key = key;
  }
}

/** The object (or the announced version) no longer exists: skip, nothing to hash. */
export class S3ObjectMissingError extends S3ObjectError {
  constructor(bucket: string, key: string, cause?: unknown) {
    super('object not found (deleted since the event)', bucket, key, { code: 'S3_OBJECT_MISSING', retryable: false, cause });
  }
}

/** The object was overwritten after the event (eTag no longer matches): skip, its own event will come. */
export class S3ObjectChangedError extends S3ObjectError {
  constructor(bucket: string, key: string, detail: string, cause?: unknown) {
    super(`object changed since the event (${detail})`, bucket, key, { code: 'S3_OBJECT_CHANGED', retryable: false, cause });
  }
}

/** One or more records of an event failed; carries the per-record outcome so nothing is hidden. */
export class ObjectEventFailedError extends ShadowplugError {
  readonly outcome: unknown;
  readonly failures: ShadowplugError[];
  constructor(failures: ShadowplugError[], outcome: unknown) {
    super(`${failures.length} record(s) failed: ${failures.map((f) => f.message).join('; ')}`, {
      code: 'OBJECT_EVENT_FAILED',
      retryable: failures.some((f) => f.retryable),
      cause: failures[0],
    });
    this.failures = failures;
    this.outcome = outcome;
  }
}

interface SdkErrorShape {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

export function sdkStatus(err: unknown): number | undefined {
  return (err as SdkErrorShape | undefined)?.$metadata?.httpStatusCode;
}

export function sdkName(err: unknown): string {
  return (err as SdkErrorShape | undefined)?.name ?? '';
}

export type S3ErrorCode =
  /** The key (or the asked version) does not exist now, or is a delete marker: a retry reads the same absence. */
  | 'S3_OBJECT_MISSING'
  /** A condition failed (412), or lost to another conditional write (409): the key holds other bytes than the ones asked for. */
  | 'S3_OBJECT_CHANGED'
  /** The range starts past the object's end. */
  | 'S3_INVALID_RANGE'
  /** 403, or an expired or invalid session token (400): a policy fix or fresh credentials make the retry work. */
  | 'S3_ACCESS_DENIED'
  | 'S3_THROTTLED'
  /** Another 4xx. */
  | 'S3_REQUEST_REFUSED'
  | 'S3_SERVER_ERROR'
  /** No HTTP answer at all (network, timeout, reset). */
  | 'S3_CONNECTION';

export interface S3Failure {
  code: S3ErrorCode;
  retryable: boolean;
  status?: number;
  /** `Name (HTTP status): message`. */
  detail: string;
}

// The SDK names errors inconsistently (a HEAD's 404 is `NotFound`, not `NoSuchKey`): the HTTP status decides first, the name second.
const MISSING = new Set(['NoSuchKey', 'NotFound', 'NoSuchVersion', 'NoSuchBucket']);
// The token errors come as 400, but mean the same: these credentials will not do, fresh ones may.
const DENIED = new Set(['AccessDenied', 'Forbidden', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AllAccessDisabled', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired']);
const THROTTLED = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);

function codeOf(status: number | undefined, name: string): S3ErrorCode {
  // 405: the version asked for is a delete marker, i.e. the object is gone.
  if (status === 404 || status === 405 || MISSING.has(name)) return 'S3_OBJECT_MISSING';
  if (status === 412 || status === 409 || name === 'PreconditionFailed' || name === 'ConditionalRequestConflict') return 'S3_OBJECT_CHANGED';
  if (status === 416 || name === 'InvalidRange') return 'S3_INVALID_RANGE';
  if (status === 403 || DENIED.has(name)) return 'S3_ACCESS_DENIED';
  if (status === 503 || status === 429 || THROTTLED.has(name)) return 'S3_THROTTLED';
  if (status !== undefined && status >= 400 && status < 500 && status !== 408) return 'S3_REQUEST_REFUSED';
  if (status !== undefined) return 'S3_SERVER_ERROR';
  return 'S3_CONNECTION';
}

const PERMANENT: ReadonlySet<S3ErrorCode> = new Set(['S3_OBJECT_MISSING', 'S3_OBJECT_CHANGED', 'S3_INVALID_RANGE']);

/** What an SDK failure means, whichever component met it. */
export function classifyS3Error(err: unknown): S3Failure {
  const status = sdkStatus(err);
  const name = sdkName(err);
  const code = codeOf(status, name);
  const detail = `${name || 'Error'}${status ? ` (HTTP ${status})` : ''}: ${(err as SdkErrorShape | undefined)?.message ?? String(err)}`;
  return { code, retryable: !PERMANENT.has(code), ...(status !== undefined ? { status } : {}), detail };
}

/** The object Lambda's typed error for an SDK failure while reading `bucket/key`. */
export function mapS3Error(err: unknown, bucket: string, key: string): S3ObjectError {
  if (err instanceof S3ObjectError) return err;
  const failure = classifyS3Error(err);
  switch (failure.code) {
    case 'S3_OBJECT_MISSING':
      return new S3ObjectMissingError(bucket, key, err);
    case 'S3_OBJECT_CHANGED':
      return new S3ObjectChangedError(bucket, key, 'If-Match precondition failed', err);
    case 'S3_ACCESS_DENIED':
      // Thrown as retryable: a policy fix makes the retry work.
      return new S3ObjectError('access denied (check the function role: s3:GetObject, s3:GetObjectVersion, KMS)', bucket, key, { code: failure.code, retryable: true, cause: err });
    case 'S3_THROTTLED':
      return new S3ObjectError('throttled by S3 (SlowDown)', bucket, key, { code: failure.code, retryable: true, cause: err });
    default:
      return readError(bucket, key, failure.detail, err, failure.code, failure.retryable);
  }
}

/** Any other failure while reading: network, 5xx, another 4xx, or a short or long body (`S3_READ_FAILED`). */
export function readError(bucket: string, key: string, detail: string, cause?: unknown, code = 'S3_READ_FAILED', retryable = true): S3ObjectError {
  return new S3ObjectError(`read failed: ${detail}`, bucket, key, { code, retryable, cause });
}
