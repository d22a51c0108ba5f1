/**
 * What `startSandbox` is asked for, checked and completed with defaults before anything starts:
 * every problem is a SandboxConfigError naming the flag and the value given, and the directory is
 * proved writable before a port is bound.
 */
import type { Credentials } from '../core/tplink/klap-crypto';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { errorMessage } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { parseAddress } from '../core/tplink/address';
import type { ClickAction, ClickType } from '../core/button/click';
import { BUTTON_SETTINGS, PLUG_MODES, type PlugMode } from '../core/button/settings';
import type { PlugConfig } from '../core/plug-relay/config';
import { attempt } from '../core/settings/schema';
import { BUTTON_SERIAL_PATTERN } from './iot/certificate-authority';
import { SandboxConfigError, SandboxDirError } from './errors';

export const DEFAULT_SANDBOX_DIR = '.sandbox';
export const DEFAULT_BUCKET = 'shadowplug';
/** A serial in the classic IoT button's format (G030 + 12 characters). */
export const DEFAULT_BUTTON_SERIAL = 'G030SANDBOX00001';
export const THING_NAME_PREFIX = 'shadowplug-device-';
export const ROLE_ALIAS = 'shadowplug-device-role-alias';
/** The shadow property the object Lambda writes and the agents follow (the stack's default too). */
export const SHADOW_PROPERTY = 's3';
import { MAX_DEVICES } from './cli-settings';

export { MAX_DEVICES };

export interface SandboxOptions {
  /** Where certificates, shadows, objects and device files live (default `.sandbox`). */
  dir?: string;
  /** Number of things, each with its certificate and agent (default 1). */
  devices?: number;
  /** A real plug (`host[:port]`) instead of the simulated one. */
  plug?: string;
  /** Simulate an HS300 strip instead of an HS100 plug. */
  strip?: boolean;
  /** `SINGLE=toggle,DOUBLE=on,LONG=off`, or the same as an object. Missing types toggle. */
  clickActions?: string | Partial<Record<ClickType, ClickAction>>;
  buttonSerial?: string;
  bucket?: string;
  /** Diagnostics of the components (default silent); the event stream is `sandbox.events`. */
  logger?: Logger;
  /** Run one agent per thing in this process (default true); false leaves the things to agents run by hand. */
  agents?: boolean;
  /** Write `<dir>/sandbox.json` for `sandbox upload` (default true). */
  writeInfoFile?: boolean;
  /** `relay` (default with in-process agents): through the plug's shadow and the first thing's agent; `direct`: TCP from the button function. */
  plugMode?: PlugMode;
  /** Relay mode: how often the hub polls the plug (default 10 s). */
  plugPollMs?: number;
  /** Serve the dashboard on 127.0.0.1 (default off; the CLI turns it on): `true`, or the port (0 = any free one). */
  dashboard?: boolean | { port?: number };
  /** TP-Link account for KLAP/AES plugs (direct mode: handed to the button function as the stack's secret would be). */
  plugCredentials?: Credentials;
}

/** The id of the sandbox's plug in relay mode (its shadow is `plug-lamp` on the first thing). */
export const SANDBOX_PLUG_ID = 'lamp';

/** SandboxOptions checked, with every default filled in. */
export interface SandboxConfig {
  /** Absolute. */
  dir: string;
  logger: Logger;
  devices: number;
  things: string[];
  clickActions: Partial<Record<ClickType, ClickAction>>;
  /** Set when the user's own plug replaces the simulated one. */
  realPlug?: { host: string; port: number };
  strip: boolean;
  bucket: string;
  buttonSerial: string;
  agents: boolean;
  writeInfoFile: boolean;
  plugMode: PlugMode;
  plugPollMs?: number;
  /** The dashboard's port (0 = any free one); absent: no dashboard. */
  dashboardPort?: number;
  /** TP-Link account for KLAP/AES plugs; in direct mode the button function gets them directly (no Secrets Manager). */
  plugCredentials?: Credentials;
}

/** The sandbox's plug as the relay configures it: driven by the first thing's agent. */
export function sandboxPlugConfig(config: SandboxConfig, address: { host: string; port: number }): PlugConfig {
  return { id: SANDBOX_PLUG_ID, hub: config.things[0]!, host: address.host, port: address.port };
}

/** Checks `options` without touching the disk or the network. Throws SandboxConfigError. */
export function resolveSandboxConfig(options: SandboxOptions = {}): SandboxConfig {
  const devices = options.devices ?? 1;
  if (!Number.isInteger(devices) || devices < 1 || devices > MAX_DEVICES) {
    throw new SandboxConfigError(`devices must be a whole number from 1 to ${MAX_DEVICES}, got ${devices}`);
  }
  const clickActions =
    typeof options.clickActions === 'string' ? parseClickActions(options.clickActions) : (options.clickActions ?? {});
  let realPlug: { host: string; port: number } | undefined;
  if (options.plug !== undefined) {
    try {
      realPlug = parseAddress(options.plug);
    } catch (err) {
      throw new SandboxConfigError(`--plug: ${errorMessage(err)}`);
    }
    if (options.strip) throw new SandboxConfigError('--strip simulates a strip; it cannot be combined with --plug');
  }
  const buttonSerial = options.buttonSerial ?? DEFAULT_BUTTON_SERIAL;
  if (!BUTTON_SERIAL_PATTERN.test(buttonSerial)) {
    throw new SandboxConfigError(`--button-serial: "${buttonSerial}" must be 1 to 64 letters, digits, "_" or "-"`);
  }
  const agents = options.agents !== false;
  const plugMode = options.plugMode ?? (agents ? 'relay' : 'direct');
  if (!(PLUG_MODES as readonly string[]).includes(plugMode)) throw new SandboxConfigError(`--plug-mode: "${plugMode}" is not one of ${PLUG_MODES.join(', ')}`);
  if (plugMode === 'relay' && !agents) throw new SandboxConfigError('--plug-mode relay needs the in-process agents (drop --no-agents, or use --plug-mode direct)');
  return {
    dir: resolve(options.dir ?? DEFAULT_SANDBOX_DIR),
    logger: options.logger ?? silentLogger,
    devices,
    things: thingNames(devices),
    clickActions,
    ...(realPlug ? { realPlug } : {}),
    strip: Boolean(options.strip),
    bucket: options.bucket ?? DEFAULT_BUCKET,
    buttonSerial,
    agents,
    writeInfoFile: options.writeInfoFile !== false,
    plugMode,
    ...(options.plugPollMs !== undefined ? { plugPollMs: options.plugPollMs } : {}),
    ...(options.dashboard ? { dashboardPort: options.dashboard === true ? 0 : (options.dashboard.port ?? 0) } : {}),
    ...(options.plugCredentials ? { plugCredentials: options.plugCredentials } : {}),
  };
}

/** `--click-actions SINGLE=toggle,DOUBLE=on` → settings, through the button's own setting; problems name the flag. */
export function parseClickActions(text: string): Partial<Record<ClickType, ClickAction>> {
  const { clickActions } = BUTTON_SETTINGS;
  return attempt(
    () => clickActions.parse(text),
    (problem, cause) => {
      throw new SandboxConfigError(`${clickActions.flag.split(' ')[0]}: ${problem}`, { cause });
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
