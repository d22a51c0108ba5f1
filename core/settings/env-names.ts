/**
 * Every environment variable a shadowplug function reads, declared in one place (as Powertools'
 * EnvironmentVariablesService owns its names): the settings schemas take their names from here.
 * One scheme: `SHADOWPLUG_<SETTING>`.
 */
export const ENV_NAMES = {
  // the button function
  defaultTargets: 'SHADOWPLUG_DEFAULT_TARGETS',
  serialTargets: 'SHADOWPLUG_SERIAL_TARGETS',
  clickActions: 'SHADOWPLUG_CLICK_ACTIONS',
  maxClickAgeMs: 'SHADOWPLUG_MAX_CLICK_AGE_MS',
  lowBatteryMv: 'SHADOWPLUG_LOW_BATTERY_MV',
  lowBatteryPercent: 'SHADOWPLUG_LOW_BATTERY_PERCENT',
  snsTopicArn: 'SHADOWPLUG_SNS_TOPIC_ARN',
  connectTimeoutMs: 'SHADOWPLUG_CONNECT_TIMEOUT_MS',
  requestTimeoutMs: 'SHADOWPLUG_REQUEST_TIMEOUT_MS',
  dedupeCapacity: 'SHADOWPLUG_DEDUPE_CAPACITY',
  plugMode: 'SHADOWPLUG_PLUG_MODE',
  plugs: 'SHADOWPLUG_PLUGS',
  confirmTimeoutMs: 'SHADOWPLUG_CONFIRM_TIMEOUT_MS',
  credentialsSecret: 'SHADOWPLUG_PLUG_CREDENTIALS_SECRET',
  // the object-to-shadow function
  targetThings: 'SHADOWPLUG_TARGET_THINGS',
  thingPrefix: 'SHADOWPLUG_THING_PREFIX',
  property: 'SHADOWPLUG_SHADOW_PROPERTY',
  shadowName: 'SHADOWPLUG_SHADOW_NAME',
  partSize: 'SHADOWPLUG_PART_SIZE_BYTES',
  concurrency: 'SHADOWPLUG_READ_CONCURRENCY',
  parallelBelow: 'SHADOWPLUG_PARALLEL_BELOW_MIB_PER_S',
  conflictRetries: 'SHADOWPLUG_CONFLICT_RETRIES',
  iotDataEndpoint: 'SHADOWPLUG_IOT_DATA_ENDPOINT',
  // both
  logLevel: 'SHADOWPLUG_LOG_LEVEL',
  // the TP-Link account for KLAP/AES plugs: the agent and `shadowplug plug`
  tplinkUsername: 'SHADOWPLUG_TPLINK_USERNAME',
  tplinkPassword: 'SHADOWPLUG_TPLINK_PASSWORD',
} as const;
