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
  /** The object (or roll-out) function left an object's event to its signed release: the key is being published, its companion's event follows. */
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

function onOff(state: 0 | 1 | undefined): string {
  return state === 1 ? 'ON' : 'OFF';
}

export function describePlug(state: PlugRelayState): string {
  if (state.children) {
    return `${state.alias} outlets ${state.children.map((c) => `${c.index}:${onOff(c.state)}`).join(' ')}`;
  }
  return `${state.alias} is ${onOff(state.relayState)}`;
}

export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** One human line per event, e.g. `click    SINGLE from button G030…`, control characters escaped. */
export function formatEvent(event: SandboxEvent, cwd?: string): string {
  return printable(formatRaw(event, cwd));
}

/** A path relative to `cwd` when it lies inside it (shorter to read, still valid to paste there). */
export function displayPath(path: string, cwd?: string): string {
  if (cwd === undefined) return path;
  const rel = relative(cwd, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function formatRaw(event: SandboxEvent, cwd?: string): string {
  switch (event.type) {
    case 'click':
      return `click    ${event.clickType} from button ${event.serial}`;
    case 'click-done':
      return `click    ${event.clickType} from ${event.serial} handled in ${event.elapsedMs} ms: ${event.summary}`;
    case 'click-failed':
      return `click    from ${event.serial} FAILED: ${event.message}`;
    case 'plug':
      return `plug     ${event.plugId ? `${event.plugId}: ` : ''}${describePlug(event.state)}`;
    case 'notification':
      return `sns      ${event.subject}`;
    case 'upload':
      return event.eventName.startsWith('ObjectRemoved')
        ? `delete   s3://${event.bucket}/${event.key} (${event.eventName})`
        : `upload   s3://${event.bucket}/${event.key} (${size(event.size)}, ${event.eventName})`;
    case 'upload-failed':
      return `upload   ${event.key} FAILED: ${event.message}`;
    case 'upload-ignored':
      return `upload   ${event.key}: no shadow changed (${event.message})`;
    case 'release-pending':
      return `lambda   ${event.key}: being published, left to its signed release (the companion's event)`;
    case 'hashed':
      return `lambda   ${event.url} sha256 ${event.hash}`;
    case 'desired':
      return `shadow   ${event.thing} desired ← ${event.url} sha256 ${short(event.hash)}`;
    case 'progress':
      return `device   ${event.thing} downloading ${
        event.total ? `${Math.floor((event.bytes / event.total) * 100)}% of ${size(event.total)}` : size(event.bytes)
      }`;
    case 'installed':
      return `device   ${event.thing} verified sha256 ${short(event.hash)}, installed ${displayPath(event.path, cwd)}`;
    case 'reported':
      return `shadow   ${event.thing} reported = desired (sha256 ${short(event.hash)})`;
    case 'device-error':
      return `device   ${event.thing} ERROR: ${event.message}`;
    case 'plug-desired':
      return `shadow   ${event.thing}/${event.shadowName} desired ← ${event.power.toUpperCase()}`;
    case 'plug-request':
      return `hub      ${event.thing} plug-${event.plugId} request ${event.requestId} ${event.outcome.toUpperCase()}${event.outcome === 'applied' ? `: ${event.power.toUpperCase()}` : event.message ? `: ${event.message}` : ''} (reported)`;
    case 'plug-reported':
      return event.online
        ? `hub      ${event.thing} plug-${event.plugId} reported ${event.power.toUpperCase()}`
        : `hub      ${event.thing} plug-${event.plugId} unreachable${event.message ? `: ${event.message}` : ''} (reported online: false)`;
    case 'shadows-written':
      return `lambda   ${event.key} → ${event.things.length} shadow${event.things.length === 1 ? '' : 's'} desire sha256 ${short(event.hash)}`;
    case 'device-online':
      return `device   ${event.thing} ${event.online ? 'online' : 'offline'}`;
    case 'rollout-created':
      return `rollout  ${event.key} → job ${event.jobId} for ${event.targets} thing${event.targets === 1 ? '' : 's'} (sha256 ${short(event.hash)})`;
    case 'rollout-wave':
      return `rollout  ${event.jobId} minute ${event.minute}: ${event.things.length} notified (${event.things.slice(0, 3).join(', ')}${event.things.length > 3 ? ', …' : ''})`;
    case 'rollout-execution':
      return `device   ${event.thing} job ${event.jobId} ${event.status}${event.code ? ` ${event.code}` : ''}`;
    case 'rollout-ended':
      return `rollout  ${event.jobId} ${event.status === 'COMPLETED' ? 'COMPLETED' : 'ABORTED'}: ${event.succeeded} succeeded, ${event.failed} failed, ${event.canceled} canceled, ${event.notNotified} never notified${event.reason ? ` (${event.reason})` : ''}`;
  }
}
