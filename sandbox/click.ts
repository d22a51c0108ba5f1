/**
 * `shadowplug sandbox click`: publishes a click as `shadowplug click` does, with the running
 * sandbox's button identity (from `<dir>/sandbox.json`), then watches the plug to say what it did.
 */
import { publishClick } from '../core/button/publish-click';
import type { ClickType } from '../core/button/click';
import { withPlug } from '../core/tplink/connect';
import { credentialsFromEnv, type Credentials } from '../core/tplink/credentials';
import { errorMessage } from '../core/errors';
import { envName } from '../core/settings/schema';
import type { PlugStatus } from '../core/tplink/plug';
import { buttonIdentity, readSandboxInfo, type SandboxInfo } from './sandbox-info';
import { SANDBOX_TPLINK_CREDENTIALS } from './sandbox-config';

export interface SandboxClickResult {
  topic: string;
  clickType: ClickType;
  acknowledgedMs: number;
  /** Relay states before and after (a strip: one per outlet); undefined if unreadable. */
  before?: number[];
  after?: number[];
  changed: boolean;
  /** Why the plug's state could not be read (after, else before). */
  plugError?: string;
}

function relays(s: PlugStatus): number[] {
  return s.children ? s.children.map((c) => c.state) : [s.relayState ?? 0];
}

/**
 * The TP-Link account to read the plug with: the one given, else the environment's, else the
 * sandbox's default one; a sandbox started with another account needs its password given (it is
 * not written in sandbox.json).
 */
export function clickCredentials(info: SandboxInfo, given: Partial<Credentials> | undefined, env: Record<string, string | undefined>): Credentials | string {
  const fromEnv = credentialsFromEnv(env);
  const username = given?.username ?? fromEnv?.username ?? info.tplinkUsername ?? SANDBOX_TPLINK_CREDENTIALS.username;
  const password = given?.password ?? (fromEnv?.username === username ? fromEnv.password : undefined) ?? env[envName('tplinkPassword')];
  if (password !== undefined) return { username, password };
  if (username === SANDBOX_TPLINK_CREDENTIALS.username) return SANDBOX_TPLINK_CREDENTIALS;
  return `the sandbox uses the TP-Link account ${username}: give its password with --tplink-password or ${envName('tplinkPassword')} to read the plug`;
}

type Relays = { relays: number[] } | { error: string };

/** The first plug's relays, in whatever protocol it speaks, or why they could not be read. */
async function readRelays(info: SandboxInfo, credentials: Credentials | string): Promise<Relays> {
  if (typeof credentials === 'string') return { error: credentials };
  const first = info.plugs?.[0];
  const options = {
    connectTimeoutMs: 1_000,
    requestTimeoutMs: 1_000,
    credentials,
    ...(first?.protocol ? { protocol: first.protocol, family: first.family } : {}),
  };
  try {
    return { relays: await withPlug({ host: info.plug.host, port: info.plug.port }, options, async ({ device }) => relays(await device.status())) };
  } catch (err) {
    return { error: errorMessage(err) };
  }
}

const relaysOf = (r: Relays) => ('relays' in r ? r.relays : undefined);

export async function clickSandbox(options: {
  clickType: ClickType;
  info?: SandboxInfo;
  dir?: string;
  /** How long to watch the plug for a change after the broker acknowledged (default 3 s). */
  watchMs?: number;
  /** The TP-Link account to read the plug with (see {@link clickCredentials}). */
  credentials?: Partial<Credentials>;
  env?: Record<string, string | undefined>;
}): Promise<SandboxClickResult> {
  const info = options.info ?? readSandboxInfo(options.dir ?? '.sandbox');
  const credentials = clickCredentials(info, options.credentials, options.env ?? process.env);
  const first = await readRelays(info, credentials);
  const before = relaysOf(first);
  const published = await publishClick({
    ...buttonIdentity(info),
    serial: info.button.serial,
    clickType: options.clickType,
  });
  // The rule runs the Lambda after the publish is acknowledged: watch for the relay to move.
  const deadline = Date.now() + (options.watchMs ?? 3_000);
  let last = await readRelays(info, credentials);
  let after = relaysOf(last);
  while (before !== undefined && after !== undefined && after.join() === before.join() && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    last = await readRelays(info, credentials);
    after = relaysOf(last);
  }
  const error = 'error' in last ? last.error : 'error' in first ? first.error : undefined;
  return {
    plugError: error,
    topic: published.topic,
    clickType: options.clickType,
    acknowledgedMs: published.elapsedMs,
    before,
    after,
    changed: before !== undefined && after !== undefined && before.join() !== after.join(),
  };
}

export function describeClick(r: SandboxClickResult): string {
  const onOff = (xs?: number[]) => (xs === undefined ? 'unknown' : xs.map((x) => (x ? 'ON' : 'OFF')).join(' '));
  const head = `published ${r.clickType} click on ${r.topic} (acknowledged in ${r.acknowledgedMs} ms)`;
  if (r.changed) return `${head}; plug ${onOff(r.before)} → ${onOff(r.after)}`;
  return `${head}; plug still ${onOff(r.after)}${r.plugError !== undefined ? ` (${r.plugError})` : ''}`;
}
