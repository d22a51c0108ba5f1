/**
 * Errors of the object-to-shadow domain. Every one keeps its `cause` and says whether trying
 * again can help; the Lambda throws the retryable ones (and access denied, which an operator can
 * fix) so that Lambda's asynchronous retry gets another go, and never writes anything partial.
 */
import { ShadowplugError } from '../errors';

/** A configuration variable is missing or malformed (thrown once, at cold start). */
export class ObjectConfigError extends ShadowplugError {
  readonly variable: string;
  constructor(variable: string, problem: string, cause?: unknown) {
    super(`${variable}: ${problem}`, { code: 'OBJECT_CONFIG_INVALID', retryable: false, cause });
    this.variable = variable;
  }
}

/** A record of an S3 event notification does not have the shape S3 sends. */
export class S3EventRecordError extends ShadowplugError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'S3_EVENT_INVALID', retryable: false, cause });
  }
}

/** Base of the errors met while reading one object. */
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

/** The function's role may not read the object. Thrown: a policy fix makes the retry work. */
export class S3AccessDeniedError extends S3ObjectError {
  constructor(bucket: string, key: string, cause?: unknown) {
    super('access denied (check the function role: s3:GetObject, s3:GetObjectVersion, KMS)', bucket, key, {
      code: 'S3_ACCESS_DENIED',
      retryable: true,
      cause,
    });
  }
}

/** S3 throttled us beyond the SDK's own retries. */
export class S3ThrottledError extends S3ObjectError {
  constructor(bucket: string, key: string, cause?: unknown) {
    super('throttled by S3 (SlowDown)', bucket, key, { code: 'S3_THROTTLED', retryable: true, cause });
  }
}

/**
 * Any other failure while reading: network, 5xx, another 4xx (code from `classifyS3Error`), or a
 * short or long body (`S3_READ_FAILED`).
 */
export class S3ReadError extends S3ObjectError {
  constructor(bucket: string, key: string, detail: string, cause?: unknown, code = 'S3_READ_FAILED', retryable = true) {
    super(`read failed: ${detail}`, bucket, key, { code, retryable, cause });
  }
}

/** Base of the errors met while reading or writing a thing's shadow. */
export class ShadowWriteError extends ShadowplugError {
  readonly thingName: string;
  readonly shadowName?: string;
  constructor(message: string, thingName: string, shadowName: string | undefined, options: { code: string; retryable: boolean; cause?: unknown }) {
    super(`shadow ${thingName}${shadowName ? `/${shadowName}` : ''}: ${message}`, options);
    this.thingName = thingName;
    this.shadowName = shadowName;
  }
}

/** Every attempt of the read-compare-write met a newer version (409). */
export class ShadowConflictError extends ShadowWriteError {
  constructor(thingName: string, shadowName: string | undefined, attempts: number, cause?: unknown) {
    super(`version conflict on each of ${attempts} attempts`, thingName, shadowName, { code: 'SHADOW_CONFLICT', retryable: true, cause });
  }
}

/** The shadow service refused or failed (throttling, 5xx, access denied, 4xx on our document). */
export class ShadowServiceError extends ShadowWriteError {
  readonly status?: number;
  constructor(thingName: string, shadowName: string | undefined, detail: string, options: { retryable: boolean; status?: number; cause?: unknown }) {
    super(detail, thingName, shadowName, { code: 'SHADOW_SERVICE', retryable: options.retryable, cause: options.cause });
    this.status = options.status;
  }
}

/** The stored shadow document could not be read as JSON. */
export class ShadowDocumentError extends ShadowWriteError {
  constructor(thingName: string, shadowName: string | undefined, detail: string, cause?: unknown) {
    super(`unreadable shadow document: ${detail}`, thingName, shadowName, { code: 'SHADOW_DOCUMENT_INVALID', retryable: false, cause });
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
