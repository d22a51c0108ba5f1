/**
 * shadowplug's toggle of one SMART/KLAP device: a long-lived bench process driven over stdin, the
 * same protocol as bench/kasa_toggle.py so both clients are measured the same way.
 *
 * Started with one argument, JSON {host, port, username, password}. Then reads one JSON command a
 * line: {"mode": "warm"|"cold"|"detect", "n": N} toggles N times and prints one JSON line
 * {"times": [ms, ...], "cpu": ms}: each toggle's wall time and the process's CPU time for the
 * round, both measured here. {"quit": true} ends it.
 *  - warm: one session cache across rounds (session and connection established)
 *  - cold: a fresh session cache per toggle (handshake included), its connection closed after the
 *    toggle, outside the timing
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
