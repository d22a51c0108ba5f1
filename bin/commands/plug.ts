/** `shadowplug plug <host[:port]> status|on|off|toggle`, `plug discover` and `plug simulate`. */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { PlugStatus } from '../../core/tplink/plug';
import type { PlugEnergy } from '../../core/tplink/commands';
import type { PlugActionResult } from '../../core/tplink/operations';
import { formatHostPort } from '../../core/util/host-port';
import { positiveInt, reportFailure, tplinkAccount, tplinkAccountOptions, type TplinkAccountFlags } from './common';

const ACTIONS = ['status', 'on', 'off', 'toggle'] as const;

interface PlugFlags extends TplinkAccountFlags {
  child?: string;
  timeout: number;
  json?: boolean;
  protocol?: 'xor' | 'klap' | 'aes';
  family?: 'iot' | 'smart';
}
type Action = (typeof ACTIONS)[number];

const onOff = (state: number | undefined) => (state === 1 ? 'on' : 'off');

/** `  12.5 W  230 V  total 1.2 kWh`, from what the meter gave (empty without a reading). */
function energyText(e: PlugEnergy | undefined): string {
  if (!e) return '';
  const parts = [
    ...(e.powerW === undefined ? [] : [`${e.powerW.toFixed(1)} W`]),
    ...(e.voltageV === undefined ? [] : [`${e.voltageV.toFixed(0)} V`]),
    ...(e.todayWh === undefined ? [] : [`today ${e.todayWh} Wh`]),
    ...(e.totalKwh === undefined ? [] : [`total ${e.totalKwh.toFixed(3)} kWh`]),
  ];
  return parts.length === 0 ? '' : `  ${parts.join('  ')}`;
}

function describeStatus(status: PlugStatus, before?: PlugStatus): string[] {
  const head = `${formatHostPort(status.host, status.port)}  ${status.model}  "${status.alias}"`;
  if (!status.children) {
    const change = before && before.relayState !== status.relayState ? `${onOff(before.relayState)} → ` : '';
    return [`${head}  ${change}${onOff(status.relayState)}${energyText(status.energy)}`];
  }
  return [
    head,
    ...status.children.map((c) => {
      const was = before?.children?.[c.index];
      const change = was && was.state !== c.state ? `${onOff(was.state)} → ` : '';
      return `  ${c.id.slice(-2)}  [${c.index}]  "${c.alias}"  ${change}${onOff(c.state)}${energyText(c.energy)}`;
    }),
  ];
}

function jsonStatus(status: PlugStatus) {
  return {
    host: status.host,
    port: status.port,
    model: status.model,
    alias: status.alias,
    deviceId: status.deviceId,
    ...(status.relayState !== undefined ? { relayState: status.relayState } : {}),
    ...(status.children ? { children: status.children } : {}),
  };
}

function jsonResult(r: PlugActionResult) {
  return {
    ...jsonStatus(r.after),
    ...(r.after.energy ? { energy: r.after.energy } : {}),
    protocol: { transport: r.connection.transport, family: r.connection.family, port: r.connection.port, ...(r.connection.version ? { version: r.connection.version } : {}) },
    action: r.action,
    changed: r.changed,
    ...(r.child ? { child: { id: r.child.id, index: r.child.index } } : {}),
    before: r.before.children ? { children: r.before.children.map((c) => c.state) } : { relayState: r.before.relayState },
  };
}

const fail = (err: unknown, json = false) => reportFailure('plug', err, json);

export function registerPlug(program: Command): void {
  const plug = program
    .command('plug')
    // `plug discover --json` belongs to discover: plug's own options count only before a subcommand name.
    .enablePositionalOptions()
    .description('Control a TP-Link plug or strip on the LAN (XOR on TCP 9999, KLAP or AES on HTTP 80), discover plugs, or simulate one')
    .usage('<host[:port]> status|on|off|toggle [options]\n       shadowplug plug discover [options]')
    .argument('[host]', 'plug address, host or host:port (port defaults to 9999)')
    .argument('[action]', `one of ${ACTIONS.join(', ')}`, 'status')
    .option('--child <id|index>', 'one outlet of a strip: full id, 2-digit suffix (00..05) or index (0..5)')
    .addOption(new Option('--timeout <ms>', 'whole-request timeout').argParser(positiveInt).default(5000))
    .option('--json', 'print one JSON object')
    .addOption(new Option('--protocol <kind>', 'transport: xor (TCP 9999), klap or aes (HTTP 80); default: detect').choices(['xor', 'klap', 'aes']))
    .addOption(new Option('--family <family>', 'protocol family over KLAP: iot (Kasa) or smart (Tapo); default: detect').choices(['iot', 'smart']));
  for (const o of tplinkAccountOptions({
    username: 'TP-Link account email for KLAP/AES plugs (or SHADOWPLUG_TPLINK_USERNAME)',
    password: 'TP-Link account password (or SHADOWPLUG_TPLINK_PASSWORD; the environment keeps it out of ps)',
  })) plug.addOption(o);
  plug
    .addHelpText(
      'after',
      `
Toggling a whole strip (no --child): if any outlet is on, all go off; otherwise all go on.
Plugs on 2020+ firmware speak KLAP or AES on HTTP port 80 and need the TP-Link account's
credentials (the well-known default ones are tried after them). The kind is detected and
remembered for the process; --protocol/--family skip detection.
Never expose port 9999 or port 80 of a plug to the internet.

Examples:
  shadowplug plug 192.168.1.20 toggle
  shadowplug plug 192.168.1.30 on --child 02 --json
  shadowplug plug discover`,
    )
    .action(async (host: string | undefined, action: string, opts: PlugFlags) => {
      if (host === undefined) {
        plug.help({ error: true });
      }
      if (!(ACTIONS as readonly string[]).includes(action)) {
        plug.error(`error: unknown action '${action}' (expected ${ACTIONS.join(', ')})`, { exitCode: 2 });
      }
      try {
        const { plugAction } = await import('../../core/tplink/operations');
        const { parseAddress } = await import('../../core/tplink/address');
        const { credentialsFromEnv } = await import('../../core/tplink/credentials');
        const credentials = tplinkAccount(opts) ?? credentialsFromEnv(process.env);
        // No port given: each protocol's own (9999 for XOR, 80 for KLAP and AES).
        const parsed = parseAddress(host!, 0);
        const address = parsed.port === 0 ? { host: parsed.host } : parsed;
        const result = await plugAction(address, action as Action, {
          child: opts.child,
          protocol: opts.protocol,
          family: opts.family,
          credentials,
          requestTimeoutMs: opts.timeout,
          connectTimeoutMs: Math.min(3000, opts.timeout),
        });
        if (opts.json) console.log(JSON.stringify(jsonResult(result)));
        else for (const line of describeStatus(result.after, result.before)) console.log(line);
      } catch (err) {
        await fail(err, opts.json);
      }
    });

  registerDiscover(plug);
  registerSimulate(plug);
}

function registerDiscover(plug: Command): void {
  plug
    .command('discover')
    .description('List plugs that answer a UDP probe: XOR on port 9999 and TDP on port 20002 (broadcast by default)')
    .option('--target <addr>', 'where to send the XOR probe: host or host:port', '255.255.255.255:9999')
    .option('--tdp-target <addr>', 'where to send the TDP probe (KLAP/AES plugs): host or host:port', '255.255.255.255:20002')
    .addOption(new Option('--timeout <ms>', 'how long to wait for answers').argParser(positiveInt).default(3000))
    .option('--json', 'print one JSON object: { plugs: [...], encrypted: [...] }')
    .action(async (opts: { target: string; tdpTarget: string; timeout: number; json?: boolean }) => {
      try {
        const { discover, discoverEncrypted } = await import('../../core/tplink/discovery');
        const { describeTpap } = await import('../../core/tplink/tpap');
        const { parseAddress } = await import('../../core/tplink/address');
        const [plugs, encrypted] = await Promise.all([
          discover({ target: parseAddress(opts.target), timeoutMs: opts.timeout }),
          discoverEncrypted({ target: parseAddress(opts.tdpTarget, 20002), timeoutMs: opts.timeout }),
        ]);
        plugs.sort((a, b) => `${a.host}:${a.port}`.localeCompare(`${b.host}:${b.port}`));
        encrypted.sort((a, b) => `${a.host}:${a.httpPort}`.localeCompare(`${b.host}:${b.httpPort}`));
        if (opts.json) {
          console.log(JSON.stringify({ plugs: plugs.map((p) => ({ ...jsonStatus(p), protocol: { transport: 'xor', family: 'iot', port: p.port } })), encrypted }));
        } else if (plugs.length === 0 && encrypted.length === 0) {
          console.error(`no plug answered within ${opts.timeout} ms`);
        } else {
          for (const p of plugs) describeStatus(p).forEach((line, i) => console.log(i === 0 ? `${line}  xor` : line));
          for (const e of encrypted) {
            const version = e.loginVersion === undefined ? '' : ` v${e.loginVersion}`;
            const transport = e.transport === 'tpap' ? `${describeTpap(e.tpap ?? { preferred: true })}, not supported` : `${e.transport}${version}`;
            console.log(`${formatHostPort(e.host, e.httpPort)}  ${e.model}  ${e.family} over ${transport}  ${e.deviceType}`);
          }
        }
      } catch (err) {
        await fail(err, opts.json);
      }
    });
}

function registerSimulate(plug: Command): void {
  const simulate = plug
    .command('simulate')
    .description('Run a simulated KLAP/AES plug, and a TDP discovery responder, on 127.0.0.1 until interrupted')
    .argument('<kind>', 'hs100-klap1, hs103-klap2, kp115-klap2, p110-klap, p100-aes, p300-klap or p304m-klap')
    .addOption(new Option('--port <n>', 'HTTP port (default: any free port)').argParser(positiveInt))
    .addOption(new Option('--tdp-port <n>', 'TDP responder port (default: any free port)').argParser(positiveInt))
    .option('--json', 'print one JSON object when ready');
  for (const o of tplinkAccountOptions({ username: 'the account the device accepts (default: the sandbox\'s, sandbox@example.com)', password: 'its password (default: the sandbox\'s)' })) simulate.addOption(o);
  simulate.action(async (kind: string, opts: TplinkAccountFlags & { port?: number; tdpPort?: number; json?: boolean }) => {
    const { SIMULATED_DEVICE_KINDS, KIND_PROTOCOLS, startSimulatedDevice } = await import('../../sandbox/plugs/simulated-devices');
    const { SANDBOX_TPLINK_CREDENTIALS } = await import('../../sandbox/sandbox-config');
    const account = tplinkAccount(opts, SANDBOX_TPLINK_CREDENTIALS)!;
    const { startTdpResponder } = await import('../../sandbox/plugs/tdp-responder');
    if (!(SIMULATED_DEVICE_KINDS as readonly string[]).includes(kind)) {
      plug.error(`error: unknown kind '${kind}' (expected ${SIMULATED_DEVICE_KINDS.join(', ')})`, { exitCode: 2 });
    }
    try {
      const device = await startSimulatedDevice(kind as (typeof SIMULATED_DEVICE_KINDS)[number], {
        credentials: account,
        port: opts.port,
      });
      const responder = await startTdpResponder([device], opts.tdpPort);
      const ready = { kind, host: device.host, port: device.port, tdpPort: responder.port, ...KIND_PROTOCOLS[kind as keyof typeof KIND_PROTOCOLS] };
      if (opts.json) console.log(JSON.stringify(ready));
      else {
        console.log(`simulated ${kind} (${ready.family} over ${ready.transport} v${ready.version}) on ${device.host}:${device.port}; TDP on udp ${responder.port}`);
        console.log(`try: shadowplug plug ${device.host}:${device.port} toggle --tplink-username ${account.username} --tplink-password …`);
      }
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await Promise.all([device.close(), responder.close()]);
    } catch (err) {
      await fail(err, opts.json);
    }
  });
}
