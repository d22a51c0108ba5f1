/**
 * One queued batch of a fan-out: the object as the object function settled it (the key's state and
 * its hash, read once) and up to BATCH_SIZE thing names, from which alone the worker decides and
 * writes each thing's value as the in-process path does. Pure.
 */
import { createHash } from 'node:crypto';
import { isObject } from '../util/guards';
import type { KeyState } from '../s3/object-get';
import type { ObjectChange } from '../s3/event';
import { ShadowplugError } from '../errors';

function invalid(problem: string, cause?: unknown): ShadowplugError {
  return new ShadowplugError(`fan-out message invalid: ${problem}`, { code: 'FANOUT_MESSAGE_INVALID', retryable: false, cause });
}

export interface FanOutBatch {
  /** The same for every batch of one upload, and for a retried event of it. */
  uploadId: string;
  change: ObjectChange;
  state: KeyState;
  /** SHA-256 hex of the key's current object; absent when the key does not exist (clear). */
  hash?: string;
  /** 0-based index, of `batches`; `targets` things in all. */
  batch: number;
  batches: number;
  targets: number;
  things: string[];
}

/**
 * Things per message. 100 names of at most 128 characters stay far under SQS's 256 KiB, and at
 * the default 100 writes/s a batch is about a second of work: a throttled batch retried alone
 * repeats little.
 */
export const BATCH_SIZE = 100;

/**
 * One upload's id, from what the key holds: its version (and eTag), and the signed release or the
 * event's sequencer. A companion's event has neither sequencer nor version of its own, so an id
 * of the event alone named every signed upload of a key alike, and the ledger sent the first one's
 * summary only. The same for a retried event.
 */
export function uploadIdOf(change: Pick<ObjectChange, 'bucket' | 'key' | 'sequencer'>, state: KeyState): string {
  const what = state.exists ? [state.versionId ?? '', state.eTag, state.release?.manifest.release ?? change.sequencer] : ['removed', change.sequencer];
  return createHash('sha256').update(JSON.stringify([change.bucket, change.key, ...what])).digest('hex').slice(0, 32);
}

/** The messages of one upload, `things` cut into batches of `batchSize`. */
export function batchesOf(change: ObjectChange, state: KeyState, hash: string | undefined, things: readonly string[], batchSize = BATCH_SIZE): FanOutBatch[] {
  const uploadId = uploadIdOf(change, state);
  const batches = Math.ceil(things.length / batchSize);
  return Array.from({ length: batches }, (_, batch) => ({
    uploadId,
    change,
    state,
    ...(hash !== undefined ? { hash } : {}),
    batch,
    batches,
    targets: things.length,
    things: things.slice(batch * batchSize, (batch + 1) * batchSize),
  }));
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** A message body → a batch; FANOUT_MESSAGE_INVALID names what is wrong. */
export function parseBatch(body: string): FanOutBatch {
  let m: unknown;
  try {
    m = JSON.parse(body);
  } catch (err) {
    throw invalid('body is not JSON', err);
  }
  if (!isObject(m)) throw invalid('body is not an object');
  if (typeof m.uploadId !== 'string' || m.uploadId === '') throw invalid('uploadId missing');
  if (!isObject(m.change) || typeof m.change.bucket !== 'string' || typeof m.change.key !== 'string' || typeof m.change.sequencer !== 'string') {
    throw invalid('change must name bucket, key and sequencer');
  }
  if (!isObject(m.state) || typeof m.state.exists !== 'boolean') throw invalid('state.exists missing');
  if (m.state.exists && (typeof m.hash !== 'string' || !/^[0-9a-f]{64}$/.test(m.hash))) throw invalid('hash must be SHA-256 hex when the object exists');
  if (!isCount(m.batch) || !isCount(m.batches) || !isCount(m.targets) || m.batch >= m.batches) throw invalid('batch, batches and targets must be counts, batch < batches');
  if (!Array.isArray(m.things) || m.things.length === 0 || !m.things.every((t) => typeof t === 'string')) throw invalid('things must be a non-empty list of names');
  return m as unknown as FanOutBatch;
}
