/**
 * Where an object is installed: `<dest>/<base name of the key>`. Pure. The key comes from the
 * cloud: a name outside `dest`, with control characters, or like the agent's own work files is refused.
 */
import { join, resolve } from 'node:path';
import { unsafeKeyReason } from '../core/s3/settings';
import { AgentError } from './errors';

/** Prefix of the agent's partial-download files in `dest`; an object may not take such a name. */
export const WORK_FILE_PREFIX = '.shadowplug-';

/** The largest file name most file systems accept (bytes). */
const MAX_NAME_BYTES = 255;

/** Why no device installs `key`, or undefined: the one rule, also applied before an upload (`sandbox upload`, the dashboard). */
export function installNameRefusal(key: string): string | undefined {
  if (key.length === 0) return 'the key is empty';
  const reason = unsafeKeyReason(key);
  if (reason !== undefined) return reason;
  const base = baseName(key);
  if (base === '' || base === '.') return 'it has no file name after the last /';
  if (base.startsWith(WORK_FILE_PREFIX)) return `names starting with ${WORK_FILE_PREFIX} are reserved for the agent`;
  if (Buffer.byteLength(base) > MAX_NAME_BYTES) return `its file name is longer than ${MAX_NAME_BYTES} bytes`;
  return undefined;
}

function baseName(key: string): string {
  const segments = key.split('/');
  return segments[segments.length - 1]!;
}

/** The file name an object key is installed under, or an UNSAFE_KEY error saying why not. */
export function installFileName(key: string): string {
  const reason = installNameRefusal(key);
  if (reason !== undefined) throw unsafeKey(key, reason);
  return baseName(key);
}

/** The absolute path an object key is installed at inside `dest` (checked to stay inside it). */
export function installPath(dest: string, key: string): string {
  const name = installFileName(key);
  const root = resolve(dest);
  const path = join(root, name);
  // Belt and braces: the checks above already rule this out.
  if (resolve(path, '..') !== root) throw unsafeKey(key, 'it resolves outside the destination directory');
  return path;
}

/** The object key would not make a safe file name inside the destination directory. */
function unsafeKey(key: string, reason: string): AgentError {
  return new AgentError(`refusing key ${JSON.stringify(key)}: ${reason}`, { code: 'UNSAFE_KEY', retryable: false });
}
