/**
 * One install of a file named by a desired value: download with resume, verify the SHA-256,
 * atomic rename into place, record it in the state store, and announce it. Shared by the shadow
 * path (file-sync.ts, which adds retries and reporting around it) and the job runner.
 */
import type { EventEmitter } from 'node:events';
import type { AgentFs } from './agent-fs';
import type { FileDesired } from './desired';
import { downloadObject } from './download';
import { StateWriteError } from './errors';
import type { OpenedSource } from './file-sync';
import type { InstalledFile, StateStore } from './state-store';

export interface InstallDeps {
  property: string;
  maxSize: number;
  store: StateStore;
  openSource: () => Promise<OpenedSource>;
  events: EventEmitter;
  /** Epoch ms. */
  clock: () => number;
  idleTimeoutMs?: number;
  fs?: AgentFs;
}

export async function installFile(deps: InstallDeps, desired: FileDesired, path: string, signal: AbortSignal, onProgress?: (bytes: number, total: number | undefined) => void): Promise<InstalledFile> {
  const opened = await deps.openSource();
  try {
    const result = await downloadObject(opened.source, {
      bucket: desired.bucket,
      key: desired.key,
      hash: desired.hash,
      maxSize: deps.maxSize,
      finalPath: path,
      signal,
      ...(deps.idleTimeoutMs !== undefined ? { idleTimeoutMs: deps.idleTimeoutMs } : {}),
      ...(deps.fs ? { fs: deps.fs } : {}),
      ...(desired.versionId ? { versionId: desired.versionId } : {}),
      ...(desired.size !== undefined ? { size: desired.size } : {}),
      ...(onProgress ? { onProgress } : {}),
    });
    // The file is in place: record it before anything else can fail.
    const installed: InstalledFile = {
      url: desired.url,
      hash: result.hash,
      ...(desired.versionId ? { versionId: desired.versionId } : {}),
      size: result.size,
      path,
      installedAt: new Date(deps.clock()).toISOString(),
      desired: desired.raw,
    };
    try {
      await deps.store.set(deps.property, installed);
    } catch (err) {
      throw new StateWriteError(installed, err);
    }
    deps.events.emit('installed', { property: deps.property, url: desired.url, hash: result.hash, path, size: result.size, versionId: desired.versionId, resumedFrom: result.resumedFrom });
    return installed;
  } finally {
    opened.close();
  }
}
