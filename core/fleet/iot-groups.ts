/** `ListThingsInThingGroup` (recursive: nested groups too; static and dynamic alike) as the target resolver's page function. */
import { ListThingsInThingGroupCommand, type IoTClient } from '@aws-sdk/client-iot';
import { ShadowplugError, errorMessage } from '../errors';
import { sdkName, sdkStatus } from '../s3/s3-errors';
import { ThingGroupNotFoundError, type ListGroupPage } from './targets';

/** The API's maximum page size: fewest calls against its 10 requests/s quota. */
const PAGE_SIZE = 250;

export function listThingGroupPage(iot: IoTClient): ListGroupPage {
  return async (group, nextToken) => {
    try {
      const res = await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: group, recursive: true, maxResults: PAGE_SIZE, ...(nextToken ? { nextToken } : {}) }));
      return { things: res.things ?? [], ...(res.nextToken ? { nextToken: res.nextToken } : {}) };
    } catch (err) {
      if (sdkName(err) === 'ResourceNotFoundException' || sdkStatus(err) === 404) throw new ThingGroupNotFoundError(group, err);
      throw new ShadowplugError(`listing the things of group "${group}" failed: ${sdkName(err) || 'Error'}: ${errorMessage(err)}`, { code: 'THING_GROUP_LIST_FAILED', retryable: true, cause: err });
    }
  };
}
