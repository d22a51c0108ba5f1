/**
 * `shadowplug click`: press the button without a button.
 * - Local: runs the real button handler in this process with a synthesised classic event and
 *   prints the outcome (`--plug [id=]host[:port][#outlet]`, else the BUTTON_* environment).
 * - MQTT (`--endpoint host:port --cert --key --ca-file`): publishes the classic payload on
 *   `iotbutton/<serial>` over MQTT/TLS like a real IoT button; exits 0 once the broker acknowledged.
 */
import type { Command } from 'commander';
import { CLICK_TYPES } from '../../core/button/click';
import { logLevelSetting } from '../../core/settings/codecs';
import type { LogLevel } from '../../core/logger';
import { clickTypeOption, collect, settingOption } from './common';

export const DEFAULT_CLICK_SERIAL = 'G030CLI000000001';

export interface ClickCliOptions {
  serial: string;
  type: string;
  plug?: string[];
  battery?: string;
  json?: boolean;
  endpoint?: string;
  cert?: string;
  key?: string;
  caFile?: string;
  clientId?: string;
  timeout?: string;
  logLevel?: LogLevel;
}

export interface ClickCliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
}

/** The action, separate from commander so tests can run it in process. Returns the exit code. */
export async function runClick(o: ClickCliOptions, io: ClickCliIo): Promise<number> {
  const { errorMessage } = await import('../../core/errors');
  const { isClickType } = await import('../../core/button/click');
  const clickType = o.type.toUpperCase();
  if (!isClickType(clickType)) {
    io.stderr(`shadowplug click: --type must be one of ${CLICK_TYPES.join(', ')} (got "${o.type}")`);
    return 2;
  }
  let batteryMv: number | undefined;
  if (o.battery !== undefined) {
    if (!/^\d{1,5}$/.test(o.battery)) {
      io.stderr(`shadowplug click: --battery must be millivolts, e.g. 1705 (got "${o.battery}")`);
      return 2;
    }
    batteryMv = Number(o.battery);
  }
  try {
    return o.endpoint !== undefined
      ? await viaMqtt(o, io, clickType, batteryMv)
      : await local(o, io, clickType, batteryMv);
  } catch (err) {
    io.stderr(`shadowplug click: ${errorMessage(err)}`);
    return (err as { code?: unknown }).code === 'BUTTON_CONFIG_INVALID' ? 2 : 1;
  }
}

async function viaMqtt(o: ClickCliOptions, io: ClickCliIo, clickType: 'SINGLE' | 'DOUBLE' | 'LONG', batteryMv?: number): Promise<number> {
  const { readFileSync } = await import('node:fs');
  const { errorMessage } = await import('../../core/errors');
  const { publishClick } = await import('../../core/button/publish-click');
  const missing = (['cert', 'key', 'caFile'] as const).filter((k) => o[k] === undefined);
  if (missing.length > 0) {
    io.stderr(`shadowplug click: --endpoint needs ${missing.map((k) => (k === 'caFile' ? '--ca-file' : `--${k}`)).join(', ')}`);
    return 2;
  }
  const { endpoint, MQTT_PORT } = await import('../../core/settings/codecs');
  const { attempt } = await import('../../core/settings/schema');
  const { ConfigError } = await import('../../core/errors');
  // The same host[:port] reading as the agent's --endpoint; a bad one is bad configuration (exit 2).
  const { formatHostPort } = await import('../../core/util/host-port');
  const { host, port } = attempt(
    () => endpoint(MQTT_PORT).parse(o.endpoint!),
    (problem, cause) => {
      throw new ConfigError('BUTTON_CONFIG_INVALID', '--endpoint', problem, cause);
    },
  );
  const read = (flag: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${flag} ${path}: ${errorMessage(err)}`, { cause: err });
    }
  };
  let timeoutMs = 10_000;
  if (o.timeout !== undefined) {
    if (!/^\d{1,6}$/.test(o.timeout) || Number(o.timeout) < 1) {
      io.stderr(`shadowplug click: --timeout must be milliseconds (got "${o.timeout}")`);
      return 2;
    }
    timeoutMs = Number(o.timeout);
  }
  const published = await publishClick({
    host,
    port,
    cert: read('--cert', o.cert!),
    key: read('--key', o.key!),
    ca: read('--ca-file', o.caFile!),
    serial: o.serial,
    clickType,
    timeoutMs,
    ...(o.clientId !== undefined ? { clientId: o.clientId } : {}),
    ...(batteryMv !== undefined ? { batteryMv } : {}),
  });
  if (o.json) io.stdout(JSON.stringify({ published: true, endpoint: formatHostPort(host, port), ...published }));
  else io.stdout(`published ${clickType} click on ${published.topic} to ${formatHostPort(host, port)} as ${published.clientId} (acknowledged in ${published.elapsedMs} ms)`);
  return 0;
}

async function local(o: ClickCliOptions, io: ClickCliIo, clickType: 'SINGLE' | 'DOUBLE' | 'LONG', batteryMv?: number): Promise<number> {
  const { randomUUID } = await import('node:crypto');
  const { parseButtonConfig, BUTTON_ENV } = await import('../../core/button/config');
  const { createHandler } = await import('../../lambda/button-click');
  const { ruleEvent } = await import('../../core/button/click');
  const { formatNotification } = await import('../../core/button/notify');
  const { createLogger } = await import('../../core/logger');
  const { credentialsFromEnv } = await import('../../core/tplink/credentials');
  const { fixedCredentials } = await import('../../core/button/secret-credentials');

  const env = { ...io.env };
  if (o.plug && o.plug.length > 0) Object.assign(env, await plugSettings(o.plug, env));
  else if (!env[BUTTON_ENV.defaultTargets] && !env[BUTTON_ENV.serialTargets]) {
    io.stderr(`shadowplug click: which plug? Give --plug host:port[#child] (or set ${BUTTON_ENV.defaultTargets}), or --endpoint to publish over MQTT`);
    return 2;
  }
  // A local click opens TCP to the plug itself (the seed's path) unless the environment asks for the relay.
  if (!env[BUTTON_ENV.plugMode]) env[BUTTON_ENV.plugMode] = 'direct';
  // CLI logs are for people: warnings only unless --log-level (or the function's variable) says otherwise.
  if (o.logLevel !== undefined) env[BUTTON_ENV.logLevel] = o.logLevel;
  else if (!env[BUTTON_ENV.logLevel]) env[BUTTON_ENV.logLevel] = 'warn';
  const config = parseButtonConfig(env);
  // KLAP/AES plugs: the account from SHADOWPLUG_TPLINK_USERNAME/PASSWORD, as `shadowplug plug` takes it (else the function's secret, if set).
  const tplink = credentialsFromEnv(env);
  const handler = createHandler({
    config,
    logger: createLogger({ level: config.logLevel, json: Boolean(o.json), write: io.stderr }),
    ...(tplink ? { credentials: fixedCredentials(tplink) } : {}),
  });
  const event = ruleEvent({ serial: o.serial, clickType, requestId: randomUUID(), receivedAt: Date.now(), ...(batteryMv !== undefined ? { batteryMv } : {}) });
  const outcome = await handler(event);

  if (o.json) io.stdout(JSON.stringify(outcome));
  else if (outcome.status === 'rejected') io.stdout(`rejected: ${outcome.error?.message ?? 'unknown'}`);
  else {
    for (const click of outcome.clicks) {
      const n = formatNotification(click);
      io.stdout(`${n.subject}\n${n.message}`);
    }
  }
  return outcome.status === 'done' || outcome.status === 'skipped' ? 0 : 1;
}

/**
 * `--plug` specs as the button function's settings: a spec with an id becomes a configured plug
 * that the click targets by id, one without is a target address. A simulated kind is refused:
 * a click here reaches real plugs (the sandbox simulates them).
 */
async function plugSettings(specs: string[], env: Record<string, string | undefined>): Promise<Record<string, string>> {
  const { readPlugSpec } = await import('../../sandbox/plug-spec');
  const { formatTarget } = await import('../../core/button/targets');
  const { ConfigError } = await import('../../core/errors');
  const { BUTTON_ENV } = await import('../../core/button/config');
  const targets: string[] = [];
  const plugs = env[BUTTON_ENV.plugs] ? [env[BUTTON_ENV.plugs]] : [];
  for (const text of specs) {
    const fail = (problem: string): never => {
      throw new ConfigError('BUTTON_CONFIG_INVALID', `--plug "${text}"`, problem);
    };
    const spec = readPlugSpec(text, fail);
    if (spec.kind !== undefined) fail(`${spec.kind} is a simulated plug; click switches a real one (\`shadowplug sandbox --plug ${text}\` simulates it)`);
    const where = formatTarget({ ...spec.address!, ...(spec.outlet !== undefined ? { child: spec.outlet } : {}) });
    // Direct mode never asks the hub; a named thing is kept for the relay.
    if (spec.id !== undefined) plugs.push(`${spec.id}@${spec.thing ?? 'local'}=${where}`);
    targets.push(spec.id ?? where);
  }
  return { [BUTTON_ENV.defaultTargets]: targets.join(','), ...(plugs.length > 0 ? { [BUTTON_ENV.plugs]: plugs.join(',') } : {}) };
}

export function registerClick(program: Command): void {
  program
    .command('click')
    .description('press the button: run the button handler locally against a plug, or publish a click over MQTT/TLS')
    .option('--serial <serial>', 'button serial number', DEFAULT_CLICK_SERIAL)
    .addOption(clickTypeOption())
    .option('--plug <spec>', 'plug (or strip outlet) to switch, [id=]host[:port][#outlet] as on `sandbox --plug`; repeat for several (local mode)', collect)
    .option('--battery <mV>', 'battery voltage the button reports, in millivolts (default 1705)')
    .option('--json', 'machine-readable output: the outcome as one JSON object (logs as JSON lines on stderr)')
    .option('--endpoint <host[:port]>', 'MQTT/TLS endpoint to publish the click to (MQTT mode; port default 8883)')
    .option('--cert <pem>', 'button certificate (MQTT mode)')
    .option('--key <pem>', 'button private key (MQTT mode)')
    .option('--ca-file <pem>', 'CA that signed the broker certificate (MQTT mode)')
    .option('--client-id <id>', 'MQTT client id (MQTT mode; default iotbutton_<serial>)')
    .option('--timeout <ms>', 'MQTT mode: give up after this long (default 10000)')
    .addOption(settingOption(logLevelSetting, { defaultText: `warn, or ${logLevelSetting.env}` }))
    .action(async (options: ClickCliOptions) => {
      process.exitCode = await runClick(options, {
        stdout: (t) => process.stdout.write(t + '\n'),
        stderr: (t) => process.stderr.write(t + '\n'),
        env: process.env,
      });
    });
}
