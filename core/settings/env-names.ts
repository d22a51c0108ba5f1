/**
 * Every environment variable a shadowplug function reads, declared in one place (as Powertools'
 * EnvironmentVariablesService owns its names): the settings schemas take their names from here.
 * One scheme: `SHADOWPLUG_<SETTING>`. Grouped by who reads them, so a function's bundle holds its
 * own names only (`ENV_NAMES`, all of them, is for the stack, the docs and the CLI).
 */

/** The button function's. */
export const BUTTON_ENV_NAMES = {
  defaultTargets: 'SHADOWPLUG_DEFAULT_TARGETS',
  serialTargets: 'SHADOWPLUG_SERIAL_TARGETS',
  clickActions: 'SHADOWPLUG_CLICK_ACTIONS',
  maxClickAgeSeconds: 'SHADOWPLUG_MAX_CLICK_AGE_SECONDS',
  lowBatteryMillivolts: 'SHADOWPLUG_LOW_BATTERY_MILLIVOLTS',
  lowBatteryPercent: 'SHADOWPLUG_LOW_BATTERY_PERCENT',
  snsTopicArn: 'SHADOWPLUG_SNS_TOPIC_ARN',
  connectTimeoutMs: 'SHADOWPLUG_CONNECT_TIMEOUT_MS',
  requestTimeoutMs: 'SHADOWPLUG_REQUEST_TIMEOUT_MS',
  dedupeCapacity: 'SHADOWPLUG_DEDUPE_CAPACITY',
  plugMode: 'SHADOWPLUG_PLUG_MODE',
  plugs: 'SHADOWPLUG_PLUGS',
  confirmTimeoutMs: 'SHADOWPLUG_CONFIRM_TIMEOUT_MS',
  plugCredentialsSecret: 'SHADOWPLUG_PLUG_CREDENTIALS_SECRET',
} as const;

/** The object-to-shadow function's. */
export const OBJECT_TO_SHADOW_ENV_NAMES = {
  targetThings: 'SHADOWPLUG_TARGET_THINGS',
  thingPrefix: 'SHADOWPLUG_THING_PREFIX',
  property: 'SHADOWPLUG_SHADOW_PROPERTY',
  shadowName: 'SHADOWPLUG_SHADOW_NAME',
  partSize: 'SHADOWPLUG_PART_SIZE_BYTES',
  concurrency: 'SHADOWPLUG_READ_CONCURRENCY',
  parallelBelow: 'SHADOWPLUG_PARALLEL_BELOW_MIB_PER_S',
  conflictRetries: 'SHADOWPLUG_CONFLICT_RETRIES',
  thingGroups: 'SHADOWPLUG_THING_GROUPS',
  fanOutAbove: 'SHADOWPLUG_FANOUT_ABOVE',
  fanOutQueueUrl: 'SHADOWPLUG_FANOUT_QUEUE_URL',
} as const;

/** The fan-out worker's (with the object function's property, shadow name and data endpoint). */
export const FANOUT_ENV_NAMES = {
  writesPerSecond: 'SHADOWPLUG_FANOUT_WRITES_PER_SECOND',
  maxReceiveCount: 'SHADOWPLUG_FANOUT_MAX_RECEIVE_COUNT',
  progressBucket: 'SHADOWPLUG_FANOUT_PROGRESS_BUCKET',
} as const;

/** Both functions'. */
export const SHARED_ENV_NAMES = {
  iotDataEndpoint: 'SHADOWPLUG_IOT_DATA_ENDPOINT',
  logLevel: 'SHADOWPLUG_LOG_LEVEL',
} as const;

/** The TP-Link account for KLAP/AES plugs: the agent and `shadowplug plug`. */
export const TPLINK_ENV_NAMES = {
  tplinkUsername: 'SHADOWPLUG_TPLINK_USERNAME',
  tplinkPassword: 'SHADOWPLUG_TPLINK_PASSWORD',
} as const;

/** All of them. Pure (no getters in the groups), so a bundle that does not use it drops it. */
export const ENV_NAMES: typeof BUTTON_ENV_NAMES & typeof OBJECT_TO_SHADOW_ENV_NAMES & typeof FANOUT_ENV_NAMES & typeof SHARED_ENV_NAMES & typeof TPLINK_ENV_NAMES =
  /* @__PURE__ */ Object.assign({}, BUTTON_ENV_NAMES, OBJECT_TO_SHADOW_ENV_NAMES, FANOUT_ENV_NAMES, SHARED_ENV_NAMES, TPLINK_ENV_NAMES);
