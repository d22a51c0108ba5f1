/**
 * Read-compare-write of one property of `state.desired` in a thing's shadow, over the IoT data-plane
 * API. The update carries the `version` it was decided on, so a concurrent writer makes it fail with
 * 409 and the decision is made again on the fresh document, at most `conflictRetries` times.
 */
import { GetThingShadowCommand, UpdateThingShadowCommand, type IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { silentLogger, type Logger } from '../logger';
import { ShadowplugError } from '../errors';
import { sdkName, sdkStatus } from './s3-errors';

export interface ShadowWriterOptions {
  property: string;
  shadowName?: string;
  conflictRetries: number;
  logger?: Logger;
}

/** What a decision function returns: the new property value (`null` deletes it), or a reason to skip. */
export type ShadowDecision<R extends string> = { action: 'write'; value: unknown } | { action: 'skip'; reason: R };

export type ShadowApplyResult<R extends string> =
  | { result: 'written'; version: number | undefined }
  | { result: 'skipped'; reason: R; version: number | undefined };

/** `value`: `state.desired[property]`, or undefined. */
export type ShadowRead = { version: number | undefined; value: unknown };

// Access problems too: an operator's to fix, after which a retry succeeds.
const RETRYABLE = new Set(['ThrottlingException', 'ServiceUnavailableException', 'InternalFailureException', 'GatewayTimeoutException', 'UnauthorizedException', 'ForbiddenException']);

export class ShadowWriter {
  private readonly logger: Logger;

  constructor(
    private readonly iotData: IoTDataPlaneClient,
    private readonly options: ShadowWriterOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
  }

  /** The property's value (undefined when no shadow or no such property). */
  async read(thingName: string): Promise<ShadowRead> {
    const { shadowName, property } = this.options;
    let payload: Uint8Array | undefined;
    try {
      const res = await this.iotData.send(new GetThingShadowCommand({ thingName, shadowName }));
      payload = res.payload;
    } catch (err) {
      if (sdkName(err) === 'ResourceNotFoundException' || sdkStatus(err) === 404) return { version: undefined, value: undefined };
      throw this.serviceError(thingName, 'GetThingShadow', err);
    }
    let doc: { version?: unknown; state?: { desired?: Record<string, unknown> } };
    try {
      doc = JSON.parse(Buffer.from(payload ?? new Uint8Array()).toString('utf8')) as typeof doc;
    } catch (err) {
      throw this.failure(thingName, 'unreadable shadow document: GetThingShadow payload is not JSON', { code: 'SHADOW_DOCUMENT_INVALID', retryable: false, cause: err });
    }
    const version = typeof doc?.version === 'number' ? doc.version : undefined;
    const desired = doc?.state?.desired;
    const value = desired && typeof desired === 'object' ? desired[property] : undefined;
    return { version, value };
  }

  /** Decide on the current value and write the result; re-decide on each 409. */
  async apply<R extends string>(thingName: string, decide: (current: unknown) => ShadowDecision<R>): Promise<ShadowApplyResult<R>> {
    const { shadowName, property, conflictRetries } = this.options;
    let lastConflict: unknown;
    for (let attempt = 1; attempt <= conflictRetries + 1; attempt++) {
      const current = await this.read(thingName);
      const decision = decide(current.value);
      if (decision.action === 'skip') return { result: 'skipped', reason: decision.reason, version: current.version };
      const update: Record<string, unknown> = { state: { desired: { [property]: decision.value } } };
      // No shadow yet: nothing to pin to (the service has no "create only if absent").
      if (current.version !== undefined) update.version = current.version;
      try {
        const res = await this.iotData.send(
          new UpdateThingShadowCommand({ thingName, shadowName, payload: Buffer.from(JSON.stringify(update), 'utf8') }),
        );
        return { result: 'written', version: this.versionOf(res.payload) };
      } catch (err) {
        if (sdkName(err) === 'ConflictException' || sdkStatus(err) === 409) {
          lastConflict = err;
          this.logger.info('shadow version conflict; reading again', { thingName, shadowName, attempt, version: current.version });
          continue;
        }
        throw this.serviceError(thingName, 'UpdateThingShadow', err);
      }
    }
    throw this.failure(thingName, `version conflict on each of ${conflictRetries + 1} attempts`, { code: 'SHADOW_CONFLICT', retryable: true, cause: lastConflict });
  }

  private versionOf(payload: Uint8Array | undefined): number | undefined {
    if (!payload || payload.byteLength === 0) return undefined;
    try {
      const doc = JSON.parse(Buffer.from(payload).toString('utf8')) as { version?: unknown };
      return typeof doc.version === 'number' ? doc.version : undefined;
    } catch {
      return undefined;
    }
  }

  private failure(thingName: string, message: string, options: { code: string; retryable: boolean; cause?: unknown }): ShadowplugError {
    const { shadowName } = this.options;
    return new ShadowplugError(`shadow ${thingName}${shadowName ? `/${shadowName}` : ''}: ${message}`, options);
  }

  private serviceError(thingName: string, operation: string, err: unknown): ShadowplugError {
    const name = sdkName(err) || 'Error';
    const status = sdkStatus(err);
    const message = (err as { message?: string } | undefined)?.message ?? String(err);
    const retryable = RETRYABLE.has(name) || (status !== undefined && (status >= 500 || status === 429)) || status === undefined;
    // Throttling has its own code: the fan-out worker backs off on it (core/fleet/write-batch.ts).
    const code = name === 'ThrottlingException' || status === 429 ? 'SHADOW_THROTTLED' : 'SHADOW_SERVICE';
    return this.failure(thingName, `${operation} failed: ${name}${status ? ` (HTTP ${status})` : ''}: ${message}`, { code, retryable, cause: err });
  }
}
