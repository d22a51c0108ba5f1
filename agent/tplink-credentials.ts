/**
 * The TP-Link account (the Kasa/Tapo app's email and password) the agent gives KLAP and AES plugs.
 * From `--tplink-credentials-file` (JSON `{"username","password"}` or two lines), or from
 * `--tplink-username`/`--tplink-password` and their environment variables. A file is the way for
 * an installed agent: a password flag is visible to every user in `ps`, so the file must not be
 * readable by group or others. Nothing here puts the password in an error message.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Credentials } from '../core/tplink/klap-crypto';
import { AgentConfigError } from './errors';

export interface CredentialsFileSystem {
  stat(path: string): Promise<{ mode: number; isFile(): boolean }>;
  readFile(path: string, encoding: 'utf8'): Promise<string>;
}

const nodeFs: CredentialsFileSystem = { stat, readFile };

/** `{"username","password"}`, or the email on the first line and the password on the second. */
export function parseCredentialsText(path: string, text: string): Credentials {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      // Not the parser's message: it may quote the file's content.
      throw new AgentConfigError(`TP-Link credentials file ${path} starts with "{" but is not valid JSON`);
    }
    const { username, password } = (parsed ?? {}) as Record<string, unknown>;
    if (typeof username !== 'string' || username === '' || typeof password !== 'string' || password === '') {
      throw new AgentConfigError(`TP-Link credentials file ${path} must hold {"username": "<email>", "password": "<password>"}, both non-empty`);
    }
    return { username, password };
  }
  // Only line breaks are taken off: a password may begin or end with a space.
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  const [username, password] = lines;
  if (lines.length !== 2 || !username?.trim() || !password) {
    throw new AgentConfigError(`TP-Link credentials file ${path} must hold two lines (the email, then the password) or a JSON object; it has ${lines.length} non-trailing lines`);
  }
  return { username: username.trim(), password };
}

/** A file holding the TP-Link password must be readable by its owner only (as ssh wants of keys). */
export function refuseReadableByOthers(what: string, path: string, mode: number, platform: string = process.platform): void {
  if (platform === 'win32' || (mode & 0o077) === 0) return;
  const octal = (mode & 0o777).toString(8).padStart(4, '0');
  throw new AgentConfigError(`${what} ${path} may be read by group or others (mode ${octal}); run chmod 600 ${path}`);
}

/** Reads and checks a credentials file (a regular file; on POSIX, mode without group/other bits). */
export async function readCredentialsFile(path: string, fs: CredentialsFileSystem = nodeFs, platform: string = process.platform): Promise<Credentials> {
  let info: { mode: number; isFile(): boolean };
  try {
    info = await fs.stat(path);
  } catch (err) {
    throw new AgentConfigError(`cannot read TP-Link credentials file ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!info.isFile()) throw new AgentConfigError(`TP-Link credentials file ${path} is not a regular file`);
  refuseReadableByOthers('TP-Link credentials file', path, info.mode, platform);
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (err) {
    throw new AgentConfigError(`cannot read TP-Link credentials file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseCredentialsText(path, text);
}

/**
 * The account from a file, or from a username and password given together; undefined when none
 * is given (the plugs then get the default credentials only).
 */
export async function resolveTplinkCredentials(
  given: { file?: string; username?: string; password?: string },
  read: (path: string) => Promise<Credentials> = (p) => readCredentialsFile(p),
): Promise<Credentials | undefined> {
  const { file, username, password } = given;
  if (file !== undefined) {
    if (username !== undefined || password !== undefined) {
      throw new AgentConfigError('give the TP-Link account once: --tplink-credentials-file, or --tplink-username with --tplink-password (or their SHADOWPLUG_TPLINK_* variables), not both');
    }
    return read(file);
  }
  if (username === undefined && password === undefined) return undefined;
  if (username === undefined) throw new AgentConfigError('a TP-Link password is given without --tplink-username (SHADOWPLUG_TPLINK_USERNAME)');
  if (password === undefined) throw new AgentConfigError('--tplink-username is given without a password: SHADOWPLUG_TPLINK_PASSWORD or --tplink-credentials-file');
  return { username, password };
}
