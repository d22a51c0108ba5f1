/**
 * One install of a file named by a desired value: check its signed release (with trusted keys),
 * download, verify, install, record it in the state store and announce it. Shared by the shadow
 * path (file-sync.ts) and the job runner, so both refuse the same releases and retry the same failures.
 */
import type { EventEmitter } from 'node:events';
import type { AgentFs } from './agent-fs';
import type { FileDesired } from './desired';
import { downloadObject } from './download';
import type { ObjectSource } from './s3-source';
import type { InstalledFile, StateStore } from './state-store';
import type { Json, JsonObject } from '../core/shadow/json';
import { checkRelease, REFUSAL_CODES, type TrustedKey } from '../core/release/trust';
import type { ReleaseManifest } from '../core/release/manifest';
import { AgentError, StateWriteError } from './errors';

/** Writes `reported.<property>` (the shadow session). */
export interface Reporter {
  report(property: string, value: Json): Promise<void>;
}

/** An object source with current credentials, opened per attempt. */
export interface OpenedSource {
  source: ObjectSource;
  close(): void;
}

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
  /** With keys: only a release signed by one of them, newer than the one at the path, unexpired. */
  trusted?: readonly TrustedKey[];
  /** S3 refused the credentials (403, or an expired token): drop them, so the retry (shadow or job path) fetches new ones. */
  onAccessDenied?: () => void;
}

/** The signed release the value carries, checked before any byte is fetched (undefined without trusted keys). */
function trustedRelease(deps: InstallDeps, desired: FileDesired, path: string): ReleaseManifest | undefined {
  if (!deps.trusted || deps.trusted.length === 0) return undefined;
  const decision = checkRelease(desired, deps.trusted, deps.store.release(path), deps.clock());
  if (!decision.ok) throw new AgentError(`refused: ${decision.message}`, { code: decision.code, retryable: false });
  return decision.manifest;
}

export async function installFile(deps: InstallDeps, desired: FileDesired, path: string, signal: AbortSignal, onProgress?: (bytes: number, total: number | undefined) => void): Promise<InstalledFile> {
  const manifest = trustedRelease(deps, desired, path);
  const opened = await deps.openSource();
  try {
    const { bucket, key, hash, versionId, size } = desired;
    // A signed release bounds the download: not one byte past the signed size is taken.
    const maxSize = manifest ? Math.min(deps.maxSize, manifest.size) : deps.maxSize;
    const request = { bucket, key, hash, versionId, size, maxSize, finalPath: path, signal, onProgress, idleTimeoutMs: deps.idleTimeoutMs, fs: deps.fs };
    const result = await downloadObject(opened.source, request).catch((err: unknown) => {
      if (err instanceof AgentError && err.code === 'S3_ACCESS_DENIED') deps.onAccessDenied?.();
      throw err;
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
      ...(manifest ? { release: manifest.release } : {}),
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

/** Failures the desired value itself causes: reported once, then the agent waits for a new value. */
const PERMANENT: ReadonlySet<string> = new Set(['INVALID_DESIRED', 'UNSAFE_KEY', 'OBJECT_TOO_LARGE', 'FILE_NAME_TOO_LONG', ...REFUSAL_CODES]);

/**
 * A version that is gone (404, or a delete marker) never comes back, so a value naming one fails
 * for good; a key without a version may be uploaded again, so that is retried.
 */
export function isPermanent(error: AgentError, desired: FileDesired): boolean {
  return PERMANENT.has(error.code) || (error.code === 'S3_OBJECT_MISSING' && desired.versionId !== undefined);
}

export function toAgentError(err: unknown): AgentError {
  if (err instanceof AgentError) return err;
  return new AgentError((err as Error)?.message ?? String(err), { code: 'UNEXPECTED', retryable: true, cause: err });
}

/** What `reported.<property>` says for an installed file satisfying `desired`. */
export function reportedFor(installed: InstalledFile, desired: JsonObject): JsonObject {
  return { ...desired, installedAt: installed.installedAt, path: installed.path };
}
