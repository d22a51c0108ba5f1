/**
 * Download progress for people: a one-line bar on a terminal, a log line every 10 % otherwise.
 * Only downloads of at least 1 MiB are shown. Attached by the CLI, never by
 * `startAgent` (the sandbox runs many agents in one process and routes events itself).
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from '../core/logger';

export interface ProgressOptions {
  /** Draw a bar (stderr is a TTY) or log lines. */
  tty: boolean;
  write: (text: string) => void;
  logger: Logger;
  /** Terminal width for the bar (default 80). */
  columns?: number;
  now?: () => number;
}

const MiB = 1024 * 1024;
const mib = (n: number) => (n / MiB).toFixed(1);

/** Render one bar line (pure, for tests). */
export function renderBar(bytes: number, total: number, elapsedMs: number, columns = 80): string {
  const fraction = total > 0 ? Math.min(1, bytes / total) : 0;
  const rate = elapsedMs > 0 ? bytes / MiB / (elapsedMs / 1000) : 0;
  const label = ` ${(fraction * 100).toFixed(0).padStart(3)}% ${mib(bytes)}/${mib(total)} MiB ${rate.toFixed(1)} MiB/s`;
  const width = Math.max(10, columns - label.length - 3);
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${label}`;
}

export function attachProgress(events: EventEmitter, options: ProgressOptions): () => void {
  const now = options.now ?? Date.now;
  let current: { url: string; started: number; lastDraw: number; lastDecile: number } | undefined;
  let drawn = false;

  const onProgress = (p: { url: string; bytes: number; total?: number }) => {
    if (p.total === undefined || p.total < MiB) return;
    if (!current || current.url !== p.url) current = { url: p.url, started: now(), lastDraw: 0, lastDecile: -1 };
    if (options.tty) {
      if (now() - current.lastDraw < 100 && p.bytes !== p.total) return;
      current.lastDraw = now();
      options.write(`\r${renderBar(p.bytes, p.total, now() - current.started, options.columns)}`);
      drawn = true;
    } else {
      const decile = Math.floor((p.bytes / p.total) * 10);
      if (decile === current.lastDecile) return;
      current.lastDecile = decile;
      options.logger.info('download progress', { url: p.url, bytes: p.bytes, total: p.total, percent: decile * 10 });
    }
  };
  const finishLine = () => {
    if (drawn) options.write('\n');
    drawn = false;
    current = undefined;
  };
  events.on('progress', onProgress);
  events.on('installed', finishLine);
  events.on('settled', finishLine);
  return () => {
    events.off('progress', onProgress);
    events.off('installed', finishLine);
    events.off('settled', finishLine);
  };
}
