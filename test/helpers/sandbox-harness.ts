/**
 * Helpers for the system tests: drive a sandbox the way a user (or a real IoT button) would,
 * over real sockets on 127.0.0.1, and check that it leaves nothing behind.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickType } from '../../core/button/click';
import { publishClick as publishButtonClick } from '../../core/button/publish-click';
import { buttonIdentity, type SandboxInfo } from '../../sandbox/sandbox-info';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(REPO_ROOT, 'bin', 'shadowplug.mjs');

/** Publishes one classic IoT button click on the button topic with the button's own identity (MQTT/TLS, QoS 1). */
export async function publishClick(info: SandboxInfo, clickType: ClickType): Promise<void> {
  await publishButtonClick({
    ...buttonIdentity(info),
    serial: info.button.serial,
    clickType,
    timeoutMs: 5_000,
  });
}

/** Polls until `probe` returns a value other than undefined, or fails naming `what`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** True when nothing accepts TCP connections on 127.0.0.1:port any more. */
export function portIsClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** Every TCP port a sandbox's info names (to check they are all closed after it stops). */
export function sandboxPorts(info: SandboxInfo): number[] {
  const portOf = (url: string) => Number(new URL(url.includes('://') ? url : `https://${url}`).port);
  const ports = [info.mqtt.port, portOf(info.dataPlane), portOf(info.credentials.endpoint), portOf(info.s3.endpoint)];
  if (info.plug.simulated) ports.push(info.plug.port);
  if (info.dashboard) ports.push(portOf(info.dashboard));
  return [...new Set(ports)];
}

/**
 * The TCP ports process `pid` is listening on (Linux: its socket inodes from /proc/<pid>/fd
 * matched against the LISTEN rows of /proc/<pid>/net/tcp and tcp6); undefined where /proc is not
 * there to ask.
 */
export function listeningPorts(pid: number = process.pid): number[] | undefined {
  const fdDir = `/proc/${pid}/fd`;
  if (!existsSync(fdDir)) return undefined;
  const inodes = new Set<string>();
  for (const fd of readdirSync(fdDir)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(join(fdDir, fd)));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed while we looked
    }
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    const path = `/proc/${pid}/net/${table}`;
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT, st 0A is LISTEN, inode is column 10.
      if (cols.length < 10 || cols[3] !== '0A' || !inodes.has(cols[9]!)) continue;
      ports.add(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

export interface CliRun {
  child: ChildProcessWithoutNullStreams;
  stdoutLines: string[];
  stderr: () => string;
  /** Resolves with the first stdout line matching, or rejects on timeout/exit naming what was seen. */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `node bin/shadowplug.mjs <args>` (what `npx shadowplug` runs) from the repository root. */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdoutLines: string[] = [];
  let partial = '';
  let stderr = '';
  const waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      stdoutLines.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdoutLines,
    stderr: () => stderr,
    exited,
    waitForLine(match, timeoutMs = 20_000) {
      const seen = stdoutLines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching line within ${timeoutMs} ms; stdout:\n${stdoutLines.join('\n')}\nstderr:\n${stderr}`)),
          timeoutMs,
        );
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`process exited (${code ?? signal}) before the line; stdout:\n${stdoutLines.join('\n')}\nstderr:\n${stderr}`));
        });
        waiters.push({
          match,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
}

/** Runs a CLI command to completion; resolves with its exit code and output. */
export async function runCliToEnd(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = runCli(args, options);
  run.child.stdin.end();
  const timer = setTimeout(() => run.child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  const { code } = await run.exited;
  clearTimeout(timer);
  return { code, stdout: run.stdoutLines.join('\n'), stderr: run.stderr() };
}
