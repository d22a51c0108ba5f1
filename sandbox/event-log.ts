/**
 * What happens in a running sandbox, as events (for tests and the bench) and as one readable
 * line each (for the person watching the terminal). Pure: no I/O here (paths are only computed).
 */
import { isAbsolute, relative } from 'node:path';
import type { PlugRelayState } from './simulated-plug';

export type SandboxEvent =
  | { type: 'click'; serial: string; clickType: string; requestId: string }
  | { type: 'click-done'; serial: string; clickType: string; summary: string; elapsedMs: number }
  | { type: 'click-failed'; serial: string; message: string }
  /** A simulated plug's relays changed (`plugId`: which of the sandbox's plugs). */
  | { type: 'plug'; plugId?: string; state: PlugRelayState }
  /** The button function published its outcome (the sandbox's stand-in for the SNS topic). */
  | { type: 'notification'; topicArn: string; subject: string; message: string }
  | { type: 'upload'; bucket: string; key: string; size: number; eventName: string }
  | { type: 'upload-failed'; key: string; message: string }
  /** The object Lambda handled the upload but changed no shadow (same hash, older event, no such route…). */
  | { type: 'upload-ignored'; key: string; message: string }
  /** The object (or roll-out) function left an object's own event to its signed release: the companion's event delivers it (before or after). */
  | { type: 'release-pending'; key: string }
  /** The object Lambda hashed an object (once per url and hash, before the shadows it wrote). */
  | { type: 'hashed'; url: string; hash: string }
  | { type: 'desired'; thing: string; hash: string; url: string }
  /** The object Lambda has finished with an object: these shadows now desire it. */
  | { type: 'shadows-written'; key: string; hash: string; things: string[] }
  | { type: 'progress'; thing: string; bytes: number; total?: number }
  | { type: 'installed'; thing: string; hash: string; path: string }
  /** The device reports the value it is asked for (the same url, version and hash). */
  | { type: 'reported'; thing: string; hash: string; url: string }
  | { type: 'device-error'; thing: string; message: string }
  /** Relay mode: the button function wrote `desired.power` into the plug's shadow. */
  | { type: 'plug-desired'; thing: string; shadowName: string; power: string }
  /** Relay mode: the hub's agent answered a request in the plug's shadow (applied, expired or failed). */
  | { type: 'plug-request'; thing: string; plugId: string; requestId: string; outcome: string; power: string; message?: string | undefined }
  /** Relay mode: the hub's agent reported a change it saw when polling the plug (or that it is unreachable). */
  | { type: 'plug-reported'; thing: string; plugId: string; power: string; online: boolean; message?: string | undefined }
  /** A sandbox agent's MQTT session came up or went down. */
  | { type: 'device-online'; thing: string; online: boolean }
  /** Roll-out mode: an upload became an IoT Job for `targets` things. */
  | { type: 'rollout-created'; jobId: string; key: string; hash: string; targets: number }
  /** The Jobs stand-in notified these things (minute `minute` of the roll-out). */
  | { type: 'rollout-wave'; jobId: string; minute: number; things: string[] }
  | { type: 'rollout-execution'; jobId: string; thing: string; status: string; code?: string }
  /** The job completed, or was canceled (`reason`: the abort rule that fired). */
  | { type: 'rollout-ended'; jobId: string; status: string; succeeded: number; failed: number; canceled: number; notNotified: number; reason?: string };

/**
 * Keys, URLs and messages come from outside (any S3 client chooses the key): escape control
 * characters so a key cannot move the cursor or recolour the terminal it is printed on.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function short(hash: string): string {
  return hash.length > 12 ? `${hash.slice(0, 12)}…` : hash;
}

export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** One human line per event, e.g. `click    SINGLE from button G030…`, control characters escaped. */
export function formatEvent(event: SandboxEvent, cwd?: string): string {
  return printable((FORMAT[event.type] as (e: SandboxEvent, cwd?: string) => string)(event, cwd));
}

/** A path relative to `cwd` when it lies inside it (shorter to read, still valid to paste there). */
export function displayPath(path: string, cwd?: string): string {
  if (cwd === undefined) return path;
  const rel = relative(cwd, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

const onOff = (state: 0 | 1 | undefined): string => (state === 1 ? 'ON' : 'OFF');
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

type Formatters = { [K in SandboxEvent['type']]: (event: Extract<SandboxEvent, { type: K }>, cwd?: string) => string };

const FORMAT: Formatters = {
  click: (e) => `click    ${e.clickType} from button ${e.serial}`,
  'click-done': (e) => `click    ${e.clickType} from ${e.serial} handled in ${e.elapsedMs} ms: ${e.summary}`,
  'click-failed': (e) => `click    from ${e.serial} FAILED: ${e.message}`,
  plug: ({ plugId, state }) =>
    `plug     ${plugId ? `${plugId}: ` : ''}${state.alias} ${state.children ? `outlets ${state.children.map((c) => `${c.index}:${onOff(c.state)}`).join(' ')}` : `is ${onOff(state.relayState)}`}`,
  notification: (e) => `sns      ${e.subject}`,
  upload: (e) =>
    e.eventName.startsWith('ObjectRemoved')
      ? `delete   s3://${e.bucket}/${e.key} (${e.eventName})`
      : `upload   s3://${e.bucket}/${e.key} (${size(e.size)}, ${e.eventName})`,
  'upload-failed': (e) => `upload   ${e.key} FAILED: ${e.message}`,
  'upload-ignored': (e) => `upload   ${e.key}: no shadow changed (${e.message})`,
  'release-pending': (e) => `lambda   ${e.key}: a signed release: delivered on its companion's event, not this one`,
  hashed: (e) => `lambda   ${e.url} sha256 ${e.hash}`,
  desired: (e) => `shadow   ${e.thing} desired ← ${e.url} sha256 ${short(e.hash)}`,
  progress: (e) => `device   ${e.thing} downloading ${e.total ? `${Math.floor((e.bytes / e.total) * 100)}% of ${size(e.total)}` : size(e.bytes)}`,
  installed: (e, cwd) => `device   ${e.thing} verified sha256 ${short(e.hash)}, installed ${displayPath(e.path, cwd)}`,
  reported: (e) => `shadow   ${e.thing} reported = desired (sha256 ${short(e.hash)})`,
  'device-error': (e) => `device   ${e.thing} ERROR: ${e.message}`,
  'plug-desired': (e) => `shadow   ${e.thing}/${e.shadowName} desired ← ${e.power.toUpperCase()}`,
  'plug-request': (e) =>
    `hub      ${e.thing} plug-${e.plugId} request ${e.requestId} ${e.outcome.toUpperCase()}${e.outcome === 'applied' ? `: ${e.power.toUpperCase()}` : e.message ? `: ${e.message}` : ''} (reported)`,
  'plug-reported': (e) =>
    e.online
      ? `hub      ${e.thing} plug-${e.plugId} reported ${e.power.toUpperCase()}`
      : `hub      ${e.thing} plug-${e.plugId} unreachable${e.message ? `: ${e.message}` : ''} (reported online: false)`,
  'shadows-written': (e) => `lambda   ${e.key} → ${plural(e.things.length, 'shadow')} desire sha256 ${short(e.hash)}`,
  'device-online': (e) => `device   ${e.thing} ${e.online ? 'online' : 'offline'}`,
  'rollout-created': (e) => `rollout  ${e.key} → job ${e.jobId} for ${plural(e.targets, 'thing')} (sha256 ${short(e.hash)})`,
  'rollout-wave': (e) => `rollout  ${e.jobId} minute ${e.minute}: ${e.things.length} notified (${e.things.slice(0, 3).join(', ')}${e.things.length > 3 ? ', …' : ''})`,
  'rollout-execution': (e) => `device   ${e.thing} job ${e.jobId} ${e.status}${e.code ? ` ${e.code}` : ''}`,
  'rollout-ended': (e) =>
    `rollout  ${e.jobId} ${e.status === 'COMPLETED' ? 'COMPLETED' : 'ABORTED'}: ${e.succeeded} succeeded, ${e.failed} failed, ${e.canceled} canceled, ${e.notNotified} never notified${e.reason ? ` (${e.reason})` : ''}`,
};
