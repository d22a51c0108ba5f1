/**
 * What `startSandbox` is asked for, checked and completed with defaults before anything starts:
 * every problem is a SANDBOX_CONFIG error naming the flag and the value given.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { errorMessage } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import type { ClickAction, ClickType } from '../core/button/click';
import { BUTTON_SETTINGS, PLUG_MODES, type PlugMode } from '../core/button/settings';
import type { Credentials } from '../core/tplink/klap-crypto';
import type { Timers } from '../agent/plug-relay';
import { checkPlugSpecs, DEFAULT_PLUG_ID, parsePlugSpec, type SandboxPlugSpec } from './plug-spec';
import { attempt } from '../core/settings/schema';
import { BUTTON_SERIAL_PATTERN } from './iot/certificate-authority';
import { sandboxConfigError, SandboxDirError } from './errors';
import { DEFAULT_ROLLOUT, parseRolloutJson, parseRolloutSettings, type RolloutSettings } from '../core/jobs/rollout-config';
import { resolveSandboxGroups } from './sandbox-groups';
import { SHADOW_QUOTA } from '../core/fleet/settings';
import { GROUP_CACHE_MS } from '../core/fleet/targets';
import { OBJECT_SETTINGS } from '../core/s3/settings';
import { MAX_DEVICES } from './cli-settings';

export const DEFAULT_SANDBOX_DIR = '.sandbox';
export const DEFAULT_BUCKET = 'shadowplug';
/** A serial in the classic IoT button's format (G030 + 12 characters). */
export const DEFAULT_BUTTON_SERIAL = 'G030SANDBOX00001';
export const THING_NAME_PREFIX = 'shadowplug-device-';
export const ROLE_ALIAS = 'shadowplug-device-role-alias';
/** The shadow property the object Lambda writes and the agents follow (the stack's default too). */
export const SHADOW_PROPERTY = OBJECT_SETTINGS.shadowProperty.default;

/** The sandbox's options; those with a flag mean what it means (cli-settings.ts). */
export interface SandboxOptions {
  /** Default `.sandbox`. */
  dir?: string;
  devices?: number;
  group?: string;
  groupsFile?: string;
  fanOutWritesPerSecond?: number;
  /** `--data-plane-rate`. */
  dataPlaneRatePerSecond?: number;
  /** How long the object function keeps a group's members (default 60 s, as deployed; tests pass 0). */
  groupCacheMs?: number;
  /** A real plug (`host[:port]`) instead of the simulated one (the plug `lamp`). */
  plug?: string;
  /** Simulate an HS300 strip instead of an HS100 plug (the plug `lamp`). */
  strip?: boolean;
  /** The plugs, as `--plug` names them (`fan@<thing>=p110-klap`, `tv=192.168.1.30`) or parsed; default a simulated HS100 `lamp`. */
  plugs?: (string | SandboxPlugSpec)[];
  /** The TP-Link account the simulated KLAP/AES plugs accept and the agents and the button use (default {@link SANDBOX_TPLINK_CREDENTIALS}). */
  plugCredentials?: Credentials;
  /** As the flag, or the same as an object. */
  clickActions?: string | Partial<Record<ClickType, ClickAction>>;
  buttonSerial?: string;
  bucket?: string;
  /** Diagnostics of the components (default silent); the event stream is `sandbox.events`. */
  logger?: Logger;
  /** Default true. */
  agents?: boolean;
  /** Worker threads the agents run in (0: this thread; default 0 below 100 devices or on one core, else one per core, at most 4). */
  agentThreads?: number;
  /** Write `<dir>/sandbox.json` for `sandbox upload` (default true). */
  writeInfoFile?: boolean;
  plugMode?: PlugMode;
  /** Relay mode: how often the hub polls the plug (default 10 s). */
  plugPollMs?: number;
  /** Relay mode: the hubs' poll scheduling (tests fire polls by hand); default real timers every `plugPollMs`. */
  plugTimers?: Timers;
  /** Relay mode: how long the button function waits for the hub's answer (default 5 s, as deployed). */
  confirmTimeoutMs?: number;
  /** Default off (the CLI turns it on): `true`, or the port (0 = any free one). */
  dashboard?: boolean | { port?: number };
  /** Roll-out mode (uploads become IoT Jobs): `true` for the defaults, or CreateJob's `{jobExecutionsRolloutConfig, abortConfig, timeoutConfig}` (object or JSON). */
  rollout?: boolean | string | Record<string, unknown>;
}

/** The account the simulated KLAP/AES plugs accept unless told otherwise (as `shadowplug plug simulate`). */
export const SANDBOX_TPLINK_CREDENTIALS: Credentials = { username: 'sandbox@example.com', password: 'sandbox' };

/** SandboxOptions checked, with every default filled in. */
export type SandboxConfig = ReturnType<typeof resolveSandboxConfig>;

/** `--rollout` / `--rollout-config`: the settings, or undefined for the shadow path; problems name the flag. */
function rolloutOf(value: SandboxOptions['rollout']): RolloutSettings | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return DEFAULT_ROLLOUT;
  try {
    return typeof value === 'string' ? parseRolloutJson(value, '--rollout-config') : parseRolloutSettings(value, '--rollout-config');
  } catch (err) {
    throw sandboxConfigError(errorMessage(err), { cause: err });
  }
}

/** Checks `options` without touching the disk or the network. Throws SANDBOX_CONFIG errors. */
export function resolveSandboxConfig(options: SandboxOptions = {}) {
  const devices = options.devices ?? 1;
  if (!Number.isInteger(devices) || devices < 1 || devices > MAX_DEVICES) {
    throw sandboxConfigError(`devices must be a whole number from 1 to ${MAX_DEVICES}, got ${devices}`);
  }
  const clickActions =
    typeof options.clickActions === 'string' ? parseClickActions(options.clickActions) : (options.clickActions ?? {});
  const things = thingNames(devices);
  const plugs = checkPlugSpecs(plugSpecs(options), things);
  const buttonSerial = options.buttonSerial ?? DEFAULT_BUTTON_SERIAL;
  if (!BUTTON_SERIAL_PATTERN.test(buttonSerial)) {
    throw sandboxConfigError(`--button-serial: "${buttonSerial}" must be 1 to 64 letters, digits, "_" or "-"`);
  }
  const agents = options.agents !== false;
  const plugMode = options.plugMode ?? (agents ? 'relay' : 'direct');
  if (!(PLUG_MODES as readonly string[]).includes(plugMode)) throw sandboxConfigError(`--plug-mode: "${plugMode}" is not one of ${PLUG_MODES.join(', ')}`);
  const rollout = rolloutOf(options.rollout);
  if (options.agentThreads !== undefined && !(Number.isInteger(options.agentThreads) && options.agentThreads >= 0)) {
    throw sandboxConfigError(`agentThreads: ${options.agentThreads} is not a whole number ≥ 0`);
  }
  return {
    dataPlaneRatePerSecond: options.dataPlaneRatePerSecond,
    agentThreads: options.agentThreads,
    plugPollMs: options.plugPollMs,
    plugTimers: options.plugTimers,
    confirmTimeoutMs: options.confirmTimeoutMs,
    dir: resolve(options.dir ?? DEFAULT_SANDBOX_DIR),
    logger: options.logger ?? silentLogger,
    devices,
    things,
    groups: resolveSandboxGroups(options, things),
    fanOutWritesPerSecond: options.fanOutWritesPerSecond ?? SHADOW_QUOTA.large,
    groupCacheMs: options.groupCacheMs ?? GROUP_CACHE_MS,
    clickActions,
    plugs,
    plugCredentials: options.plugCredentials ?? SANDBOX_TPLINK_CREDENTIALS,
    bucket: options.bucket ?? DEFAULT_BUCKET,
    buttonSerial,
    agents,
    writeInfoFile: options.writeInfoFile !== false,
    plugMode,
    ...(options.dashboard ? { dashboardPort: options.dashboard === true ? 0 : (options.dashboard.port ?? 0) } : {}),
    ...(rollout ? { rollout } : {}),
  };
}

/** `plugs`, or the one plug `lamp` that `plug`/`strip` describe (default a simulated HS100). */
function plugSpecs(options: SandboxOptions): SandboxPlugSpec[] {
  const given = options.plugs ?? [];
  const texts = options.plug !== undefined ? [options.plug, ...given] : given;
  if (texts.length > 0) {
    if (options.strip) throw sandboxConfigError('--strip simulates the one plug lamp; it cannot be combined with --plug (give --plug lamp=hs300 instead)');
    return texts.map((p) => (typeof p === 'string' ? parsePlugSpec(p) : p));
  }
  return [{ id: DEFAULT_PLUG_ID, kind: options.strip ? 'hs300' : 'hs100' }];
}

/** `--click-actions SINGLE=toggle,DOUBLE=on` → settings, through the button's own setting; problems name the flag. */
export function parseClickActions(text: string): Partial<Record<ClickType, ClickAction>> {
  const { clickActions } = BUTTON_SETTINGS;
  return attempt(
    () => clickActions.parse(text),
    (problem, cause) => {
      throw sandboxConfigError(`${clickActions.flag.split(' ')[0]}: ${problem}`, { cause });
    },
  );
}

/** Where the agent of `thing` keeps what it has installed (in-process agents and the banner's agent command). */
export function agentStateDir(dir: string, thing: string): string {
  return join(resolve(dir), 'agent-state', thing);
}

export function thingNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${THING_NAME_PREFIX}${i + 1}`);
}

/**
 * Creates `dir` if needed and proves it writable by creating and removing a file in it (mode bits
 * alone would not do: root ignores them, and a read-only mount has none to show).
 * Throws SandboxDirError naming the directory.
 */
export function ensureWritableDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new SandboxDirError(dir, `cannot create it (${errorMessage(err)})`, err);
  }
  const probe = join(dir, `.write-check-${process.pid}-${randomUUID()}`);
  try {
    writeFileSync(probe, '');
  } catch (err) {
    throw new SandboxDirError(dir, `cannot write in it (${errorMessage(err)})`, err);
  }
  rmSync(probe, { force: true });
}
