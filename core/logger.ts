/**
 * The structured logger of every part of shadowplug (Powertools' call shape, written here so the
 * Lambda bundles stay small): one JSON object per line when `json` is set, a readable line otherwise.
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  json?: boolean;
  /** Where lines go; default process.stderr. */
  write?: (line: string) => void;
  fields?: LogFields;
  /** Epoch milliseconds. */
  clock?: () => number;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** A log field as written: an Error as its name, message, code, retryable and cause. */
export function serialise(value: unknown): unknown {
  if (value instanceof Error) {
    const base: Record<string, unknown> = { name: value.name, message: value.message };
    const withCode = value as Error & { code?: unknown; retryable?: unknown };
    if (withCode.code !== undefined) base.code = withCode.code;
    if (withCode.retryable !== undefined) base.retryable = withCode.retryable;
    if (value.cause !== undefined) base.cause = serialise(value.cause);
    return base;
  }
  return value;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const json = options.json ?? false;
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const clock = options.clock ?? Date.now;
  const base = options.fields ?? {};

  const emit = (lvl: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields): void => {
    if (ORDER[lvl] < ORDER[level]) return;
    const all: LogFields = { ...base, ...fields };
    for (const [k, v] of Object.entries(all)) all[k] = serialise(v);
    if (json) {
      write(JSON.stringify({ level: lvl, time: new Date(clock()).toISOString(), message, ...all }));
    } else {
      // One line per event (journald, grep): a string with a line break is quoted like JSON.
      const extra = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === 'string' && !/[\r\n]/.test(v) ? v : JSON.stringify(v)}`)
        .join(' ');
      write(`${lvl.padEnd(5)} ${message.replace(/\s*[\r\n]+\s*/g, ' ')}${extra ? ' ' + extra : ''}`);
    }
  };

  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

const drop = (): void => undefined;
/** Drops everything; not made by createLogger, so code that only defaults to it does not bundle the logger. */
export const silentLogger: Logger = { debug: drop, info: drop, warn: drop, error: drop, child: () => silentLogger };
