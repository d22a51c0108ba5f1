/** The benchmarks' shared arithmetic, formatting and process measurements. */
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';

/** The q-quantile by nearest rank (q = 0.95 is p95); xs need not be sorted. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** The median; of an even count, the mean of the middle two. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const ms = (x: number, digits = 1): string => `${x.toFixed(digits)} ms`;

/** Milliseconds `fn` takes. */
export async function timeMs(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** A process's peak RSS (VmHWM) in bytes; 0 without /proc. */
export function vmHwmBytes(pid: number | 'self' = 'self'): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * This process's peak RSS in bytes: on Linux its own VmHWM, because `resourceUsage().maxRSS` of a
 * process started by fork + exec also counts its parent's RSS at the fork (carried over the exec).
 */
export function peakRssBytes(): number {
  return vmHwmBytes() || process.resourceUsage().maxRSS * 1024;
}

/** utime + stime in seconds from a /proc stat file (`/proc/<pid>/stat`, `/proc/self/task/<tid>/stat`); 0 without it. */
export function procCpuSeconds(statFile: string): number {
  try {
    const stat = readFileSync(statFile, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks; USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

/** This process after a full GC (under --expose-gc): memory, open descriptors, and live handles and requests by type. */
export function processHealth(): { rssBytes: number; heapUsedBytes: number; externalBytes: number; fds: number; resources: Record<string, number> } {
  globalThis.gc?.();
  const resources: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rssBytes: rss, heapUsedBytes: heapUsed, externalBytes: external, fds: readdirSync('/proc/self/fd').length, resources };
}

/** Sends `message` to a child process and resolves with its next message. */
export function ask<T>(child: ChildProcess, message: string): Promise<T> {
  const answer = new Promise<T>((resolve) => child.once('message', (m) => resolve(m as T)));
  child.send(message);
  return answer;
}

/** For a server in a child process: close and exit once the parent closes our stdin or sends SIGTERM. */
export function closeWhenParentGoes(close: () => Promise<void>): void {
  const stop = async () => {
    await close();
    process.exit(0);
  };
  process.stdin.on('end', () => void stop());
  process.stdin.resume();
  process.on('SIGTERM', () => void stop());
}

/** `size` random bytes in 1 MiB blocks, each numbered in its first 4 bytes so no two are alike; returns the SHA-256. */
export async function writeRandomFile(path: string, size: number): Promise<string> {
  const MiB = 1024 * 1024;
  const hasher = createHash('sha256');
  const out = createWriteStream(path);
  const block = randomBytes(MiB);
  for (let n = 0; n * MiB < size; n++) {
    const chunk = Buffer.from(block.subarray(0, Math.min(MiB, size - n * MiB)));
    chunk.writeUInt32BE(n, 0);
    hasher.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return hasher.digest('hex');
}
