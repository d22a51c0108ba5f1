/**
 * The button function's work, independent of Lambda: event → clicks → decision → execution →
 * notification → outcome. Never throws: Lambda would retry, and a retried toggle undoes itself.
 */
import { silentLogger, type Logger } from '../logger';
import type { Click } from './click';
import type { ButtonConfig } from './config';
import { batteryReport, decide } from './decide';
import { ShadowplugError, errorMessage } from '../errors';
import { SerialQueue } from '../util/serial-queue';
import { ButtonEventError } from './errors';
import { normaliseEvent } from './events';
import { execute, type PlugDriver } from './execute';
import { formatNotification } from './notify';
import { overallStatus, type ButtonOutcome, type ClickOutcome } from './outcome';
import type { Publish } from './sns-publish';

export interface ButtonServiceDeps {
  config: ButtonConfig;
  driver: PlugDriver;
  /** Needed only when the configuration names a topic. */
  publish?: Publish;
  logger?: Logger;
  /** Epoch milliseconds. */
  clock?: () => number;
}

export type ButtonService = (event: unknown, fields?: Record<string, unknown>) => Promise<ButtonOutcome>;

/**
 * Request ids seen by this warm container, so a redelivered click (async invocations may arrive
 * more than once) is not acted on twice; the oldest are forgotten first. Late redeliveries that
 * land in another container are covered by the click age limit.
 */
export class RequestIdMemory {
  private readonly seen = new Set<string>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  /** Records `id`; true if it had been recorded before (a duplicate). */
  remember(id: string): boolean {
    const known = this.seen.delete(id);
    // Re-added at the end: an id that keeps coming back stays remembered.
    this.seen.add(id);
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.values().next().value as string);
    return known;
  }

  get size(): number {
    return this.seen.size;
  }
}

/** A click's outcome before anything is done: no target switched, nothing sent. */
function newOutcome(click: Click, config: ButtonConfig, status: ClickOutcome['status']): ClickOutcome {
  const { serial, clickType, source } = click;
  return { serial, clickType, source, action: config.clickActions[clickType], status, targets: [], battery: batteryReport(click, config), notification: 'off', elapsedMs: 0 };
}

/** Publishes the outcome when a topic is configured; a failure is logged, never retried or thrown (the plug has been switched). */
async function notify(outcome: ClickOutcome, topicArn: string | undefined, publish: Publish | undefined, log: Logger): Promise<void> {
  if (topicArn === undefined || publish === undefined) return;
  const { subject, message } = formatNotification(outcome);
  try {
    await publish({ topicArn, subject, message });
    outcome.notification = 'sent';
  } catch (err) {
    outcome.notification = 'failed';
    const retryable = (err as { $retryable?: unknown } | undefined)?.$retryable !== undefined;
    const error = new ShadowplugError(`SNS publish to ${topicArn} failed: ${errorMessage(err)}`, { code: 'BUTTON_NOTIFY_FAILED', retryable, cause: err });
    log.error('notification failed', { err: error });
  }
}

export function createButtonService(deps: ButtonServiceDeps): ButtonService {
  const { config, driver } = deps;
  const logger = deps.logger ?? silentLogger;
  const clock = deps.clock ?? Date.now;
  const dedupe = new RequestIdMemory(config.dedupeCapacity);

  async function handleClick(click: Click, parent: Logger): Promise<ClickOutcome> {
    const started = clock();
    const log = parent.child({ serial: click.serial, clickType: click.clickType, requestId: click.requestId });
    const duplicate = click.requestId !== undefined && dedupe.remember(click.requestId);
    let plan = decide(click, config, { now: started, duplicate });
    driver.begin?.(click.requestId === undefined ? {} : { requestId: click.requestId });
    if (plan.kind === 'act' && driver.alreadyHandled && (await driver.alreadyHandled(plan.targets))) {
      plan = { kind: 'skip', reason: 'duplicate', detail: `request ${click.requestId ?? '?'} is already in the plug shadow (handled elsewhere)` };
    }
    const outcome = newOutcome(click, config, 'skipped');
    if (click.requestId !== undefined) outcome.requestId = click.requestId;
    if (click.receivedAt !== undefined) outcome.receivedAt = click.receivedAt;
    if (outcome.battery.low) log.warn('button battery low', { battery: outcome.battery });

    if (plan.kind === 'skip') {
      Object.assign(outcome, { reason: plan.reason, detail: plan.detail, elapsedMs: clock() - started });
      log.info('click not acted on', { reason: plan.reason, detail: plan.detail, elapsedMs: outcome.elapsedMs });
      return outcome;
    }

    Object.assign(outcome, await execute(plan, driver), { elapsedMs: clock() - started });
    await notify(outcome, config.snsTopicArn, deps.publish, log);
    const targets = outcome.targets.map(({ target, alias, before, after, status, error }) => ({ target, alias, before, after, status, error }));
    const summary = { action: plan.action, power: outcome.power, targets, outcome: outcome.status, notification: outcome.notification, elapsedMs: outcome.elapsedMs };
    if (outcome.status === 'done') log.info('click handled', summary);
    else log.error('click failed', summary);
    return outcome;
  }

  /** A click that could not be handled for a reason nobody planned for (a bug): failed, not thrown. */
  function crashed(click: Click, err: unknown, log: Logger): ClickOutcome {
    log.error('click handling failed unexpectedly', { serial: click.serial, clickType: click.clickType, err });
    return { ...newOutcome(click, config, 'failed'), detail: errorMessage(err) };
  }

  const handle: ButtonService = async (event, fields = {}) => {
    const started = clock();
    const log = logger.child(fields);
    let clicks: Click[];
    try {
      clicks = normaliseEvent(event);
    } catch (err) {
      const error = err instanceof ButtonEventError ? err : new ButtonEventError('event', 'could not be read', err);
      log.warn('event rejected', { missing: error.field, err: error });
      return { status: 'rejected', clicks: [], error, elapsedMs: clock() - started };
    }
    const outcomes: ClickOutcome[] = [];
    try {
      for (const click of clicks) outcomes.push(await handleClick(click, log).catch((err: unknown) => crashed(click, err, log)));
    } finally {
      await driver.close?.().catch((err: unknown) => log.warn('closing plug connections failed', { err }));
    }
    return { status: overallStatus(outcomes), clicks: outcomes, elapsedMs: clock() - started };
  };

  // One event at a time (as in Lambda): in the sandbox two quick clicks would otherwise both read
  // "off" and both switch on, and share the driver's connections while one of them closes them.
  const queue = new SerialQueue();
  return (event, fields) => queue.run(() => handle(event, fields));
}
