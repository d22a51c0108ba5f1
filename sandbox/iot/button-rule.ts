/**
 * The topic rule the stack deploys for the button, run in process:
 * `SELECT *, newuuid() AS requestId, timestamp() AS receivedAt FROM 'iotbutton/+'` → a handler.
 * Like IoT Core, a failing action never affects the broker: errors are logged, non-JSON dropped.
 */
import { randomUUID } from 'node:crypto';
import { errorMessage } from '../../core/errors';
import { silentLogger, type Logger } from '../../core/logger';
import { isObject } from '../../core/util/guards';

/** The payload the rule hands its target: the button's JSON plus what the rule SQL adds. */
export type ButtonRuleEvent = Record<string, unknown> & { requestId: string; receivedAt: number };
export type ButtonHandler = (event: ButtonRuleEvent) => Promise<unknown> | unknown;

const TOPIC = /^iotbutton\/[^/]+$/;

export class ButtonRule {
  private readonly logger: Logger;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: { handler?: ButtonHandler; logger?: Logger; clock?: () => number }) {
    this.logger = options.logger ?? silentLogger;
  }

  /** Feed a publish; true when the rule matched the topic. */
  handle(topic: string, payload: Buffer): boolean {
    if (!TOPIC.test(topic)) return false;
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      this.logger.warn('button rule: payload is not JSON, dropped', { topic, bytes: payload.length });
      return true;
    }
    if (!isObject(body)) {
      this.logger.warn('button rule: payload is not a JSON object, dropped', { topic });
      return true;
    }
    const event: ButtonRuleEvent = { ...body, requestId: randomUUID(), receivedAt: (this.options.clock ?? Date.now)() };
    const handler = this.options.handler;
    if (!handler) {
      this.logger.info('button rule: no action configured', { topic, requestId: event.requestId });
      return true;
    }
    // Called at once, as the rule's action is; its outcome is logged, never thrown.
    const run = (async () => handler(event))().then(
      () => this.logger.debug('button rule: action done', { topic, requestId: event.requestId }),
      (err: unknown) => this.logger.error('button rule: action failed', { topic, requestId: event.requestId, error: errorMessage(err) }),
    );
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
    return true;
  }

  /** Wait for the actions under way (tests; close). */
  async idle(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
