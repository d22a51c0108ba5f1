/**
 * The fleet error that carries data and is caught by type: a configured thing group that does not
 * exist. Other fleet failures are ShadowplugError codes: THING_GROUP_LIST_FAILED,
 * FANOUT_MESSAGE_INVALID, FANOUT_ENQUEUE_FAILED.
 */
import { ShadowplugError } from '../errors';

/**
 * Retryable: the event goes on to the failure queue, and once the group is created a redrive
 * delivers it.
 */
export class ThingGroupNotFoundError extends ShadowplugError {
  readonly group: string;
  constructor(group: string, cause?: unknown) {
    super(`thing group "${group}" does not exist (check the thingGroups setting, or create the group)`, { code: 'THING_GROUP_NOT_FOUND', retryable: true, cause });
    this.group = group;
  }
}
