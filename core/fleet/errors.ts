/**
 * Errors of the fleet fan-out: targets resolved from thing groups, batches on a queue, the worker.
 */
import { ShadowplugError } from '../errors';

/**
 * A configured thing group does not exist. Retryable: the event goes on to the failure queue,
 * and once the group is created a redrive delivers it.
 */
export class ThingGroupNotFoundError extends ShadowplugError {
  readonly group: string;
  constructor(group: string, cause?: unknown) {
    super(`thing group "${group}" does not exist (check the thingGroups setting, or create the group)`, { code: 'THING_GROUP_NOT_FOUND', retryable: true, cause });
    this.group = group;
  }
}

/** Listing a group's things failed for another reason (access, throttling, network). */
export class ThingGroupListError extends ShadowplugError {
  readonly group: string;
  constructor(group: string, detail: string, cause?: unknown) {
    super(`listing the things of group "${group}" failed: ${detail}`, { code: 'THING_GROUP_LIST_FAILED', retryable: true, cause });
    this.group = group;
  }
}

/** A queued batch message does not have the shape the object function sends. Not retryable. */
export class FanOutMessageError extends ShadowplugError {
  constructor(problem: string, cause?: unknown) {
    super(`fan-out message invalid: ${problem}`, { code: 'FANOUT_MESSAGE_INVALID', retryable: false, cause });
  }
}
