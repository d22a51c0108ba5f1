/**
 * Where the sandbox keeps shadows: in memory, and — when a data directory is named — one JSON
 * file per shadow, written atomically (temp file + rename) so a crash never leaves half a document.
 * Files are written behind the memory, coalesced per shadow and off the event loop: a fleet's
 * thousands of updates a second must not wait on synchronous disk writes. `flush()` (run on
 * close) writes what is pending, so a restart reads what the last run answered.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { StoredShadow } from './shadow-document';
import { silentLogger, type Logger } from '../../core/logger';

/** Map key of a shadow: thing name, plus `~shadowName` for a named shadow ('~' is in neither alphabet). */
const shadowKey = (thingName: string, shadowName?: string): string => (shadowName ? `${thingName}~${shadowName}` : thingName);

function splitKey(key: string): { thingName: string; shadowName?: string } {
  const i = key.indexOf('~');
  return i < 0 ? { thingName: key } : { thingName: key.slice(0, i), shadowName: key.slice(i + 1) };
}

export class ShadowStore {
  private readonly shadows = new Map<string, StoredShadow>();
  /** Named shadows per thing, for ListNamedShadowsForThing without a scan. */
  private readonly named = new Map<string, Set<string>>();
  /** Shadows changed since their file was last written, by key. */
  private readonly dirty = new Map<string, StoredShadow>();
  private writing: Promise<void> | undefined;

  constructor(private readonly options: { dataDir?: string; logger?: Logger } = {}) {
    if (options.dataDir) {
      mkdirSync(options.dataDir, { recursive: true });
      this.load(options.dataDir);
    }
  }

  get(thingName: string, shadowName?: string): StoredShadow | undefined {
    return this.shadows.get(shadowKey(thingName, shadowName));
  }

  set(thingName: string, shadowName: string | undefined, shadow: StoredShadow): void {
    const key = shadowKey(thingName, shadowName);
    this.keep(key, shadow);
    if (!this.options.dataDir) return;
    this.dirty.set(key, shadow);
    this.writing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.writeDirty());
  }

  /** Resolves once every change made so far is on disk. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async writeDirty(): Promise<void> {
    while (this.dirty.size > 0) {
      const batch = [...this.dirty];
      this.dirty.clear();
      await Promise.all(batch.map(([key, shadow]) => this.write(key, shadow)));
    }
    this.writing = undefined;
  }

  private keep(key: string, shadow: StoredShadow): void {
    this.shadows.set(key, shadow);
    const { thingName, shadowName } = splitKey(key);
    if (!shadowName) return;
    let names = this.named.get(thingName);
    if (!names) this.named.set(thingName, (names = new Set()));
    if (shadow.exists) names.add(shadowName);
    else names.delete(shadowName);
  }

  /** Names of the thing's existing named shadows, sorted. */
  namedShadows(thingName: string): string[] {
    return [...(this.named.get(thingName) ?? [])].sort();
  }

  /** Never throws: a shadow that cannot be written stays served from memory, and the log says so. */
  private async write(key: string, shadow: StoredShadow): Promise<void> {
    const path = join(this.options.dataDir!, `${encodeURIComponent(key)}.json`);
    const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(shadow));
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      (this.options.logger ?? silentLogger).warn('cannot persist shadow; it is kept in memory only', { key, path, error: err });
    }
  }

  private load(dir: string): void {
    for (const file of readdirSync(dir)) {
      if (!file.endsWith('.json')) continue;
      const path = join(dir, file);
      try {
        const shadow = JSON.parse(readFileSync(path, 'utf8')) as StoredShadow;
        if (typeof shadow.version !== 'number' || typeof shadow.exists !== 'boolean' || typeof shadow.state !== 'object') {
          throw new Error('not a stored shadow');
        }
        this.keep(decodeURIComponent(file.slice(0, -'.json'.length)), shadow);
      } catch (err) {
        // One damaged file must not keep the sandbox from starting; say which and skip it.
        (this.options.logger ?? silentLogger).warn('skipping unreadable shadow file', { path, error: err });
      }
    }
  }
}
