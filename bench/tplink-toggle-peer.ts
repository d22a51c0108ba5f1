/**
 * shadowplug's toggle of one SMART/KLAP device, driven over stdin as bench/kasa_toggle.py is.
 * Argument: JSON {host, port, username, password}. Each line {"mode", "n"} toggles n times and
 * prints {"times": [ms, ...], "cpu": ms}; {"quit": true} ends it.
 *  - warm: one session cache across rounds (session and connection established)
 *  - cold: a fresh session cache per toggle, its connection closed after the toggle, untimed
 *  - detect: cold, and no protocol given either (XOR refused, then KLAP)
 */
import { createInterface } from 'node:readline';
import { DetectionCache } from '../core/tplink/connect';
import { plugAction, type PlugActionOptions } from '../core/tplink/operations';
import { SessionCache } from '../core/tplink/session-transport';

type Mode = 'warm' | 'cold' | 'detect';
const target = JSON.parse(process.argv[2]!) as { host: string; port: number; username: string; password: string };
const credentials = { username: target.username, password: target.password };
const address = { host: target.host, port: target.port };
const warmSessions = new SessionCache();

function optionsFor(mode: Mode): PlugActionOptions {
  if (mode === 'warm') return { credentials, protocol: 'klap', family: 'smart', sessions: warmSessions };
  if (mode === 'cold') return { credentials, protocol: 'klap', family: 'smart', sessions: new SessionCache() };
  return { credentials, sessions: new SessionCache(), detection: new DetectionCache() };
}

async function round(mode: Mode, n: number): Promise<{ times: number[]; cpu: number }> {
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const options = optionsFor(mode);
    const t0 = performance.now();
    await plugAction(address, 'toggle', options);
    times.push(performance.now() - t0);
    if (mode !== 'warm') options.sessions!.closeConnections();
  }
  const cpu = process.cpuUsage(cpu0);
  return { times, cpu: (cpu.user + cpu.system) / 1000 };
}

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { quit?: boolean; mode: Mode; n: number };
  if (command.quit) break;
  process.stdout.write(`${JSON.stringify(await round(command.mode, command.n))}\n`);
}
warmSessions.clear();
process.stdin.destroy();
