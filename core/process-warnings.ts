/**
 * Node prints process warnings to stderr over several lines (the AWS SDK's Node-version notice is
 * eight), which breaks `--json` logs and journald's one line per event: each distinct warning goes
 * through the logger instead, once, as one structured line.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from './logger';

/** The AWS SDK's notice starts its message with this name instead of setting `warning.name`. */
const NAMED_PREFIX = /^([A-Za-z]+Warning):\s*/;

/** One warning as one log line: the message's whitespace collapsed, its name and code as fields. */
export function warningLine(warning: Error & { code?: unknown }): { message: string; fields: Record<string, unknown> } {
  let name = warning.name;
  let text = warning.message;
  const named = NAMED_PREFIX.exec(text);
  if (named) {
    name = named[1]!;
    text = text.slice(named[0].length);
  }
  const url = /https?:\/\/\S+/.exec(text)?.[0];
  const message = text.replace(url ?? '', '').replace(/\s+/g, ' ').replace(/[\s:]+$/, '').trim();
  return {
    message: message || name,
    fields: { warning: name, ...(warning.code !== undefined ? { code: warning.code } : {}), ...(url ? { see: url } : {}) },
  };
}

/**
 * Replace the process's warning printers with the logger (each distinct warning once).
 * Returns a function that puts the previous listeners back.
 */
export function routeProcessWarnings(proc: EventEmitter, logger: Logger): () => void {
  const previous = proc.listeners('warning') as ((w: Error) => void)[];
  proc.removeAllListeners('warning');
  const seen = new Set<string>();
  const onWarning = (warning: Error) => {
    const line = warningLine(warning);
    const key = `${String(line.fields.warning)}:${line.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    logger.warn(line.message, line.fields);
  };
  proc.on('warning', onWarning);
  return () => {
    proc.off('warning', onWarning);
    for (const l of previous) proc.on('warning', l);
  };
}
