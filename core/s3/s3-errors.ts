/**
 * AWS SDK S3 failures → the domain's typed errors. The SDK names errors inconsistently (HEAD
 * responses have no body, so a 404 is `NotFound` rather than `NoSuchKey`), so the HTTP status
 * decides first and the name second.
 */
import {
  S3AccessDeniedError,
  S3ObjectChangedError,
  S3ObjectError,
  S3ObjectMissingError,
  S3ReadError,
  S3ThrottledError,
} from './errors';

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

const MISSING = new Set(['NoSuchKey', 'NotFound', 'NoSuchVersion', 'NoSuchBucket']);
const DENIED = new Set(['AccessDenied', 'Forbidden', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AllAccessDisabled']);
const THROTTLED = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);

export function mapS3Error(err: unknown, bucket: string, key: string): S3ObjectError {
  if (err instanceof S3ObjectError) return err;
  const status = sdkStatus(err);
  const name = sdkName(err);
  // 405: the version is a delete marker, i.e. the object is gone.
  if (status === 404 || status === 405 || MISSING.has(name)) return new S3ObjectMissingError(bucket, key, err);
  if (status === 412 || name === 'PreconditionFailed') return new S3ObjectChangedError(bucket, key, 'If-Match precondition failed', err);
  if (status === 403 || DENIED.has(name)) return new S3AccessDeniedError(bucket, key, err);
  if (status === 503 || status === 429 || THROTTLED.has(name)) return new S3ThrottledError(bucket, key, err);
  const detail = `${name || 'Error'}${status ? ` (HTTP ${status})` : ''}: ${(err as SdkErrorShape | undefined)?.message ?? String(err)}`;
  return new S3ReadError(bucket, key, detail, err);
}
