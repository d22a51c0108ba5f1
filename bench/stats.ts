/** The benchmarks' shared arithmetic and formatting. */
import { readFileSync } from 'node:fs';

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

/**
 * This process's peak RSS in bytes. On Linux the high-water mark of its own address space
 * (VmHWM): `resourceUsage().maxRSS` of a process started by fork + exec (child_process.fork,
 * spawn) also counts its parent's RSS at the fork, which the kernel carries over the exec, so a
 * child of a 500 MB benchmark "peaks" at 500 MB before it has done anything.
 */
export function peakRssBytes(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS * 1024;
}
