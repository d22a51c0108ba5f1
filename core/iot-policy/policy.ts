/** IoT Core policies as data: statements of actions on resources named without their ARN prefix. Pure. */

/** IoT policy variable: the thing attached to the connecting certificate. Never substituted by CDK. */
export const THING_NAME_VARIABLE = '${iot:Connection.Thing.ThingName}';

export type IotAction = 'iot:Connect' | 'iot:Publish' | 'iot:Subscribe' | 'iot:Receive';

/** Which resource type each MQTT action is checked against, as IoT Core does. */
export const RESOURCE_TYPE_OF: Readonly<Record<IotAction, IotResourceType>> = {
  'iot:Connect': 'client',
  'iot:Publish': 'topic',
  'iot:Subscribe': 'topicfilter',
  'iot:Receive': 'topic',
};

export type IotResourceType = 'client' | 'topic' | 'topicfilter';

/**
 * A resource as in the ARN's resource part, `<type>/<name>`. The name may hold IoT policy
 * wildcards (`*` any run of characters, `?` one character) and the thing-name variable.
 */
export interface IotResource {
  type: IotResourceType;
  name: string;
}

export interface IotPolicyStatement {
  sid: string;
  actions: IotAction[];
  resources: IotResource[];
  /** `iot:Connect` only: the client id must be a thing attached to the certificate. */
  requiresAttachedThing?: boolean;
}

export type IotPolicy = readonly IotPolicyStatement[];
