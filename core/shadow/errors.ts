/** A shadow request the Device Shadow service refuses, with AWS's status code and message. */
import { ShadowplugError } from '../errors';

export type ShadowErrorStatus = 400 | 404 | 409 | 413 | 500;

/** The data-plane API's error type for each status, as the AWS SDK reads it (`x-amzn-errortype`). */
export const SHADOW_ERROR_TYPES: Record<ShadowErrorStatus, string> = {
  400: 'InvalidRequestException',
  404: 'ResourceNotFoundException',
  409: 'ConflictException',
  413: 'RequestEntityTooLargeException',
  500: 'InternalFailureException',
};

export class ShadowError extends ShadowplugError {
  /** AWS's status code: 400 bad request, 404 no shadow, 409 version conflict, 413 too large. */
  readonly status: ShadowErrorStatus;

  constructor(status: ShadowErrorStatus, message: string, cause?: unknown) {
    // A 409 can succeed after the caller re-reads the shadow; a 500 may pass on its own.
    super(message, { code: `SHADOW_${status}`, retryable: status === 409 || status === 500, cause });
    this.status = status;
  }

  get errorType(): string {
    return SHADOW_ERROR_TYPES[this.status];
  }
}

/** AWS's messages, word for word. */
export const SHADOW_MESSAGES = {
  invalidJson: 'Invalid JSON',
  missingState: 'Missing required node: state',
  stateNotObject: 'State node must be an object',
  desiredNotObject: 'Desired node must be an object',
  reportedNotObject: 'Reported node must be an object',
  invalidVersion: 'Invalid version',
  invalidClientToken: 'Invalid clientToken',
  tooDeep: 'JSON contains too many levels of nesting; maximum is 6',
  invalidNode: 'State contains an invalid node',
  versionConflict: 'Version conflict',
  tooLarge: 'The payload exceeds the maximum size allowed',
  thingNotFound: 'Thing not found',
  noShadow: (name: string) => `No shadow exists with name: ${name}`,
} as const;
