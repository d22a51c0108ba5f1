/**
 * What the agent has installed, per shadow property, persisted in `--state-dir/state.json`
 * (written atomically). A restart reads it to know it need not download again; the file at
 * `path` is checked to still have `size` bytes before it is trusted.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SerialQueue } from '../core/util/serial-queue';
import { installError } from './errors';
import { readStateFile, writeStateFile } from './fs-atomic';
import { nodeFs, type AgentFs } from './agent-fs';
import type { JsonObject } from '../core/shadow/json';

export interface InstalledFile {
  url: string;
  hash: string;
  versionId?: string;
  size: number;
  path: string;
  installedAt: string;
  /** The desired value this file satisfied, as it was reported. */
  desired: JsonObject;
  /** Its signed release number, when the agent checks signatures. */
  release?: number;
}

/** The highest signed release installed at a path, and its bytes: a lower one is never installed again. */
export interface ReleaseMark {
  release: number;
  sha256: string;
}

interface StateFile {
  format: 1;
  properties: Record<string, InstalledFile>;
  /**
   * By install path; kept when the property is cleared or another file takes the path, so a
   * rollback is refused across restarts and across `desired` being emptied.
   */
  releases?: Record<string, ReleaseMark>;
}

export class StateStore {
  readonly file: string;
  private state: StateFile = { format: 1, properties: {} };
  /** Writes are serialised so two capabilities never interleave a rename. */
  private readonly writing = new SerialQueue();

  private constructor(
    readonly dir: string,
    private readonly fs: AgentFs,
  ) {
    this.file = join(dir, 'state.json');
  }

  /** Open (creating the directory) and load the state; an unreadable file is an error, not a reset. */
  static async open(dir: string, fs: AgentFs = nodeFs): Promise<StateStore> {
    const store = new StateStore(dir, fs);
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw installError(`cannot create state directory ${dir}: ${(err as Error).message}`, err, false);
    }
    const valid = (parsed: StateFile) => typeof parsed.properties === 'object' && parsed.properties !== null;
    store.state = (await readStateFile(store.file, 'state file', valid)) ?? store.state;
    return store;
  }

  get(property: string): InstalledFile | undefined {
    // Own properties only: the property name is the user's (`--shadow-property constructor` is data).
    return Object.hasOwn(this.state.properties, property) ? this.state.properties[property] : undefined;
  }

  /** The highest release installed at `path`, if any was signed. */
  release(path: string): ReleaseMark | undefined {
    const marks = this.state.releases;
    return marks && Object.hasOwn(marks, path) ? marks[path] : undefined;
  }

  async set(property: string, installed: InstalledFile | undefined): Promise<void> {
    await this.writing.run(async () => {
      const next: StateFile = { format: 1, properties: { ...this.state.properties }, ...(this.state.releases ? { releases: { ...this.state.releases } } : {}) };
      if (installed?.release !== undefined) {
        const mark = next.releases?.[installed.path];
        if (!mark || installed.release >= mark.release) next.releases = { ...next.releases, [installed.path]: { release: installed.release, sha256: installed.hash } };
      }
      if (installed) Object.defineProperty(next.properties, property, { value: installed, enumerable: true, writable: true, configurable: true });
      else delete next.properties[property];
      await writeStateFile(this.file, next, this.fs);
      this.state = next;
    });
  }
}
