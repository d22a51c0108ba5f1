/**
 * The object-to-shadow errors that code catches by type or that carry data; shadow write failures
 * are codes (SHADOW_CONFLICT, SHADOW_THROTTLED, SHADOW_SERVICE, ...), bad configuration a `ConfigError`.
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
