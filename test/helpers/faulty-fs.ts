/**
 * A file-system layer for the agent (agent/agent-fs.ts) that fails like a read-only or full file
 * system at a chosen path and byte, and reports a chosen free space. Tests run as root here and
 * cannot mount a tmpfs: root writes through permission bits, so a real EROFS/ENOSPC needs a mount.
 */
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { AgentFs } from '../../agent/agent-fs';

export function errnoError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected by the test, ${syscall} '${path}'`), { code, syscall, path });
}

export interface FaultyFs extends AgentFs {
  /** Opening a matching path for writing fails with `code` (EROFS: a read-only file system). */
  refuseWrites(match: ((path: string) => boolean) | undefined, code?: string): void;
  /** The next write to a matching path that would pass `afterBytes` (per handle) fails with `code`, once. */
  failWriteAt(match: (path: string) => boolean, afterBytes: number, code?: string, then?: () => void): void;
  /** What statfs says is free (undefined: the truth). */
  setFree(bytes: number | undefined): void;
  readonly statfsCalls: number;
  /** Called before every open (a test acts at an exact step, e.g. the fsync before the rename). */
  onOpen: ((path: string, flags: string | undefined) => void) | undefined;
  /** Writes refused by `refuseWrites` so far. */
  readonly refusals: number;
}

export function faultyFs(): FaultyFs {
  let refuse: { match: (p: string) => boolean; code: string } | undefined;
  let writeFault: { match: (p: string) => boolean; afterBytes: number; code: string; then?: () => void } | undefined;
  let free: number | undefined;
  let statfsCalls = 0;
  let refusals = 0;
  const refused = (code: string, syscall: string, path: string) => {
    refusals++;
    return errnoError(code, syscall, path);
  };

  const writable = (flags: unknown) => typeof flags === 'string' && /[wa+]/.test(flags);

  function wrap(handle: FileHandle, path: string): FileHandle {
    let written = 0;
    const check = (length: number): void => {
      const f = writeFault;
      if (!f || !f.match(path) || written + length <= f.afterBytes) {
        written += length;
        return;
      }
      writeFault = undefined;
      f.then?.();
      throw errnoError(f.code, 'write', path);
    };
    return new Proxy(handle, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        if (prop === 'writev')
          return async (buffers: Buffer[], position?: number) => {
            check(buffers.reduce((n, b) => n + b.length, 0));
            return target.writev(buffers, position);
          };
        if (prop === 'write')
          return async (buffer: Buffer, offset?: number, length?: number, position?: number) => {
            check(length ?? buffer.length);
            return target.write(buffer, offset, length, position);
          };
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
  }

  const fs: FaultyFs = {
    onOpen: undefined,
    open: (async (path: string, flags?: string, mode?: number) => {
      fs.onOpen?.(String(path), flags);
      if (refuse?.match(String(path)) && writable(flags)) throw refused(refuse.code, 'open', String(path));
      return wrap(await fsp.open(path, flags, mode), String(path));
    }) as AgentFs['open'],
    rename: (async (from: string, to: string) => {
      if (refuse?.match(String(to))) throw refused(refuse.code, 'rename', String(to));
      return fsp.rename(from, to);
    }) as AgentFs['rename'],
    stat: fsp.stat,
    unlink: fsp.unlink,
    statfs: (async (path: string) => {
      statfsCalls++;
      const real = await fsp.statfs(path);
      return free === undefined ? real : { ...real, bavail: Math.floor(free / real.bsize) };
    }) as AgentFs['statfs'],
    refuseWrites(match, code = 'EROFS') {
      refuse = match ? { match, code } : undefined;
    },
    failWriteAt(match, afterBytes, code = 'ENOSPC', then) {
      writeFault = { match, afterBytes, code, ...(then ? { then } : {}) };
    },
    setFree(bytes) {
      free = bytes;
    },
    get refusals() {
      return refusals;
    },
    get statfsCalls() {
      return statfsCalls;
    },
  };
  return fs;
}
