/**
 * How each plug was reached (XOR, KLAP v1/v2, AES; IOT or SMART), remembered in
 * `--state-dir/plug-detection.json` so a restarted agent goes straight to each plug instead of
 * probing it again. It is a cache, not state: an unreadable file or entry is ignored (the plug is
 * detected again), and a remembered kind that stops working is detected anew by the TP-Link client
 * (core/tplink/connect.ts), which then replaces it here.
 */
import { readFile } from 'node:fs/promises';
import { PROTOCOL_FAMILIES, TRANSPORT_KINDS } from '../core/tplink/address';
import { DetectionCache, type ConnectionKind } from '../core/tplink/connect';
import { silentLogger, type Logger } from '../core/logger';
import { writeFileAtomic } from './fs-atomic';
import { SerialQueue } from '../core/util/serial-queue';
import { isObject } from '../core/util/guards';

export const PLUG_DETECTION_FILE = 'plug-detection.json';

interface DetectionFile {
  format: 1;
  devices: Record<string, ConnectionKind>;
}

function validKind(value: unknown): value is ConnectionKind {
  return (
    isObject(value) &&
    (TRANSPORT_KINDS as readonly unknown[]).includes(value.transport) &&
    (PROTOCOL_FAMILIES as readonly unknown[]).includes(value.family) &&
    Number.isInteger(value.port) &&
    (value.port as number) > 0 &&
    (value.port as number) < 65_536 &&
    (value.version === undefined || value.version === 1 || value.version === 2)
  );
}

/**
 * A DetectionCache that writes what it learns. `delete` (the client forgetting a kind that failed,
 * before detecting again) stays in memory: a plug that is merely offline keeps its entry on disk,
 * and nothing is written at every poll (RelayedPlug puts the entry back when detection fails).
 */
export class PlugDetectionStore extends DetectionCache {
  private readonly writing = new SerialQueue();
  /** What the file holds (or will, once the queued write is done). */
  private written = '';

  private constructor(
    readonly file: string,
    private readonly logger: Logger,
  ) {
    super();
  }

  /** Loads what an earlier run detected (nothing when the file is missing or unreadable). */
  static async open(file: string, logger: Logger = silentLogger): Promise<PlugDetectionStore> {
    const store = new PlugDetectionStore(file, logger);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn('cannot read the plug detection cache; detecting again', { file, err });
      return store;
    }
    try {
      const parsed = JSON.parse(text) as Partial<DetectionFile>;
      if (parsed.format !== 1 || typeof parsed.devices !== 'object' || parsed.devices === null) throw new Error('unknown format');
      for (const [key, kind] of Object.entries(parsed.devices)) if (validKind(kind)) DetectionCache.prototype.set.call(store, key, kind);
      store.written = store.body();
    } catch (err) {
      logger.warn('plug detection cache is corrupt; detecting again', { file, err });
    }
    return store;
  }

  /** Remembered, and written when it differs from what the file holds. */
  override set(key: string, kind: ConnectionKind): void {
    super.set(key, kind);
    const body = this.body();
    if (body === this.written) return;
    this.logger.info('plug protocol detected', { device: key, ...kind });
    this.written = body;
    // Serialised, each write the whole cache as it was then: the last one wins on disk.
    void this.writing.run(() =>
      writeFileAtomic(this.file, body).catch((err: unknown) => this.logger.warn('cannot write the plug detection cache', { file: this.file, err })),
    );
  }

  /** Resolves when every change so far is on disk (tests, shutdown). */
  flush(): Promise<void> {
    return this.writing.idle();
  }

  private body(): string {
    const devices = Object.fromEntries(this.entries().sort(([a], [b]) => a.localeCompare(b)));
    return JSON.stringify({ format: 1, devices } satisfies DetectionFile, null, 2) + '\n';
  }
}
