/**
 * `shadowplug sandbox click`: press the sandbox's button without typing its endpoint and
 * certificate paths. Finds the running sandbox through `<dir>/sandbox.json`, publishes the click
 * exactly as `shadowplug click --endpoint ...` does (MQTT/TLS, the button's own identity,
 * `iotbutton/<serial>`), then watches the plug over the TP-Link protocol to say what it did.
 */
import { publishClick } from '../core/button/publish-click';
import type { ClickType } from '../core/button/click';
import { withPlug } from '../core/tplink/connect';
import { credentialsFromEnv } from '../core/tplink/credentials';
import type { PlugStatus } from '../core/tplink/plug';
import { buttonIdentity, readSandboxInfo, type SandboxInfo } from './sandbox-info';
import { SANDBOX_TPLINK_CREDENTIALS } from './sandbox-config';

export interface SandboxClickResult {
  topic: string;
  clickType: ClickType;
  acknowledgedMs: number;
  /** Relay states before and after (a strip: one per outlet); `after` undefined if unreadable. */
  before?: number[];
  after?: number[];
  changed: boolean;
}

function relays(s: PlugStatus): number[] {
  return s.children ? s.children.map((c) => c.state) : [s.relayState ?? 0];
}

/** The first plug's relays, in whatever protocol it speaks (the sandbox's TP-Link account, or the environment's). */
async function readRelays(info: SandboxInfo): Promise<number[] | undefined> {
  const first = info.plugs?.[0];
  const options = {
    connectTimeoutMs: 1_000,
    requestTimeoutMs: 1_000,
    credentials: credentialsFromEnv(process.env) ?? SANDBOX_TPLINK_CREDENTIALS,
    ...(first?.protocol ? { protocol: first.protocol, family: first.family } : {}),
  };
  try {
    return await withPlug({ host: info.plug.host, port: info.plug.port }, options, async ({ device }) => relays(await device.status()));
  } catch {
    return undefined;
  }
}

export async function clickSandbox(options: {
  clickType: ClickType;
  info?: SandboxInfo;
  dir?: string;
  /** How long to watch the plug for a change after the broker acknowledged (default 3 s). */
  watchMs?: number;
}): Promise<SandboxClickResult> {
  const info = options.info ?? readSandboxInfo(options.dir ?? '.sandbox');
  const before = await readRelays(info);
  const published = await publishClick({
    ...buttonIdentity(info),
    serial: info.button.serial,
    clickType: options.clickType,
  });
  // The rule runs the Lambda after the publish is acknowledged: watch for the relay to move.
  const deadline = Date.now() + (options.watchMs ?? 3_000);
  let after = await readRelays(info);
  while (before !== undefined && after !== undefined && after.join() === before.join() && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    after = await readRelays(info);
  }
  return {
    topic: published.topic,
    clickType: options.clickType,
    acknowledgedMs: published.elapsedMs,
    ...(before ? { before } : {}),
    ...(after ? { after } : {}),
    changed: before !== undefined && after !== undefined && before.join() !== after.join(),
  };
}

export function describeClick(r: SandboxClickResult): string {
  const onOff = (xs?: number[]) => (xs === undefined ? 'unknown' : xs.map((x) => (x ? 'ON' : 'OFF')).join(' '));
  const head = `published ${r.clickType} click on ${r.topic} (acknowledged in ${r.acknowledgedMs} ms)`;
  return r.changed ? `${head}; plug ${onOff(r.before)} → ${onOff(r.after)}` : `${head}; plug still ${onOff(r.after)}`;
}
