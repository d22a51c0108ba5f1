/**
 * The SMART protocol (Tapo, and Kasa devices since ~2022) over any Transport: `{method, params}` →
 * `{error_code, result}`; `multipleRequest` batches, with single calls for firmware that refuses
 * batches; paged lists are followed to their end.
 */
import { randomBytes } from 'node:crypto';
import {
  SMART_AUTHENTICATION_CODES,
  SMART_DEVICE_BLOCKED,
  deviceBlocked,
  TplinkAuthenticationError,
  TplinkProtocolError,
  TplinkSmartError,
  smartErrorName,
  type TplinkEndpoint,
} from './errors';
import type { Transport } from './transport';
import { loginRefusal } from './login-guard';
import { isObject } from '../util/guards';

export interface SmartCall {
  method: string;
  params?: Record<string, unknown>;
}

/** One call's outcome inside a batch: its result, or the error it failed with. */
export type SmartOutcome = { ok: true; result: Record<string, unknown> } | { ok: false; error: TplinkSmartError | TplinkAuthenticationError };

/** Batch error codes after which the device gets single calls instead (JSON error, unknown method, unknown). */
const BATCH_REFUSED = new Set([-1003, -1002, -1]);
/** Pages followed at most (a device answering an ever-growing `sum` must not loop forever). */
const MAX_PAGES = 50;

/** Per process: SMART clients identify themselves with a random terminal id, as the apps do. */
const TERMINAL_UUID = randomBytes(16).toString('base64');

export class SmartProtocol {
  /** Whether the device still gets batches (false after it refused one). */
  batching = true;

  constructor(
    readonly transport: Transport,
    private readonly endpoint: TplinkEndpoint = transport.endpoint,
  ) {}

  /** One call; throws on a non-zero error code. */
  async call(method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>> {
    const reply = await this.transport.send(envelope({ method, params }));
    return this.result(method, reply);
  }

  /** Several calls, batched when the device allows; each call's outcome in order. */
  async callAll(calls: SmartCall[]): Promise<SmartOutcome[]> {
    const responses = calls.length > 1 && this.batching ? await this.batch(calls) : [];
    const outcomes: SmartOutcome[] = [];
    for (const [i, call] of calls.entries()) {
      const response: unknown = responses[i];
      // The device stops at the first failure: the calls it did not answer are asked singly.
      const answered = isObject(response) && response.method === call.method;
      outcomes.push(this.toOutcome(call.method, answered ? response : await this.transport.send(envelope(call))));
    }
    return outcomes;
  }

  /** A batch's responses; none when the device refuses batches (it gets single calls from then on). */
  private async batch(calls: SmartCall[]): Promise<unknown[]> {
    try {
      const reply = await this.call('multipleRequest', { requests: calls.map((c) => ({ method: c.method, ...(c.params ? { params: c.params } : {}) })) });
      return Array.isArray(reply.responses) ? reply.responses : [];
    } catch (err) {
      if (!(err instanceof TplinkSmartError && BATCH_REFUSED.has(err.errorCode))) throw err;
      this.batching = false;
      return [];
    }
  }

  /** A paged list (`get_child_device_list`, …): every page, concatenated. */
  async list(method: string, name: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await this.call(method, { start_index: items.length });
      const batch = result[name];
      if (!Array.isArray(batch)) throw new TplinkProtocolError(this.endpoint, 'unexpected-reply', `${method} has no "${name}" list`);
      items.push(...batch.filter(isObject));
      const sum = typeof result.sum === 'number' ? result.sum : items.length;
      if (batch.length === 0 || items.length >= sum) return items;
    }
    throw new TplinkProtocolError(this.endpoint, 'unexpected-reply', `${method} still had pages after ${MAX_PAGES}`);
  }

  /** A call to one child of a strip, through `control_child`; the child's own error code is checked. */
  async callChild(deviceId: string, method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>> {
    const result = await this.call('control_child', { device_id: deviceId, requestData: { method, ...(params ? { params } : {}) } });
    return this.result(`control_child ${method}`, result.responseData);
  }

  private toOutcome(method: string, response: unknown): SmartOutcome {
    try {
      return { ok: true, result: this.result(method, response) };
    } catch (err) {
      if (err instanceof TplinkSmartError || err instanceof TplinkAuthenticationError) return { ok: false, error: err };
      throw err;
    }
  }

  private result(method: string, reply: unknown): Record<string, unknown> {
    if (!isObject(reply)) throw new TplinkProtocolError(this.endpoint, 'unexpected-reply', `${method} reply is not a JSON object`);
    const code = reply.error_code;
    if (typeof code !== 'number') throw new TplinkProtocolError(this.endpoint, 'unexpected-reply', `${method} reply has no error_code`);
    if (code !== 0) {
      if (code === SMART_DEVICE_BLOCKED) throw deviceBlocked(this.endpoint, loginRefusal(reply).secondsLeft);
      if (SMART_AUTHENTICATION_CODES.has(code)) {
        throw new TplinkAuthenticationError(this.endpoint, `device error ${code} (${smartErrorName(code)}) in ${method}`);
      }
      throw new TplinkSmartError(this.endpoint, method, code);
    }
    return isObject(reply.result) ? reply.result : {};
  }
}

function envelope(call: SmartCall): Record<string, unknown> {
  return {
    method: call.method,
    ...(call.params ? { params: call.params } : {}),
    request_time_milis: Date.now(),
    terminal_uuid: TERMINAL_UUID,
  };
}
