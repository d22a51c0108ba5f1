import { describe, expect, it } from 'vitest';
import { batchesOf, parseBatch, uploadIdOf } from '../../../core/fleet/message';
import { MemoryLedger, summaryMessage } from '../../../core/fleet/progress';
import type { ObjectChange } from '../../../core/s3/event';

const change: ObjectChange = { kind: 'created', eventName: 'ObjectCreated:Put', bucket: 'b', key: 'fw.bin', sequencer: '0A', eventTime: '2026-12-06T00:00:00.000Z', size: 3, eTag: 'e' };
const state = { exists: true as const, size: 3, eTag: 'e' };
const hash = 'a'.repeat(64);

describe('fan-out batches', () => {
  it('cuts the targets into batches that name the same upload, and parse back', () => {
    const things = Array.from({ length: 250 }, (_, i) => `t${i}`);
    const batches = batchesOf(change, state, hash, things, 100);
    expect(batches.map((b) => b.things.length)).toEqual([100, 100, 50]);
    expect(new Set(batches.map((b) => b.uploadId))).toEqual(new Set([uploadIdOf(change, state)]));
    expect(batches.every((b) => b.batches === 3 && b.targets === 250)).toBe(true);
    expect(parseBatch(JSON.stringify(batches[2]))).toEqual(batches[2]);
  });

  it('names what is wrong with a bad message', () => {
    expect(() => parseBatch('nope')).toThrow(/not JSON/);
    const good = batchesOf(change, state, hash, ['t'])[0]!;
    expect(() => parseBatch(JSON.stringify({ ...good, hash: undefined }))).toThrow(/hash must be SHA-256/);
    expect(() => parseBatch(JSON.stringify({ ...good, batch: 1 }))).toThrow(/batch < batches/);
    expect(() => parseBatch(JSON.stringify({ ...good, things: [] }))).toThrow(/things/);
  });

  it('a different event of the same key is a different upload', () => {
    expect(uploadIdOf(change, state)).not.toBe(uploadIdOf({ ...change, sequencer: '0B' }, state));
  });

  it("names each signed upload of a key apart, though their companions' events carry no sequencer or version", () => {
    const viaCompanion = { ...change, sequencer: '' };
    const signed = (versionId: string, release: number) => ({ ...state, versionId, release: { manifest: { release } } as never });
    const first = uploadIdOf(viaCompanion, signed('v1', 1));
    expect(uploadIdOf(viaCompanion, signed('v2', 2))).not.toBe(first);
    expect(uploadIdOf(viaCompanion, signed('v1', 1))).toBe(first);
    expect(uploadIdOf(viaCompanion, { exists: false })).not.toBe(uploadIdOf({ ...viaCompanion, sequencer: '0C' }, { exists: false }));
  });
});

describe('MemoryLedger', () => {
  it('completes an upload once, when every batch has a final outcome, repeats overwriting', async () => {
    const ledger = new MemoryLedger();
    const upload = { uploadId: 'u', bucket: 'b', key: 'k', batches: 2, targets: 150 };
    const zero = { unchanged: 0, skipped: 0, failed: 0, deadLettered: false };
    expect(await ledger.record(upload, { batch: 0, written: 100, ...zero })).toBeUndefined();
    expect(await ledger.record(upload, { batch: 0, written: 100, ...zero })).toBeUndefined();
    const summary = await ledger.record(upload, { batch: 1, written: 40, ...zero, failed: 10, deadLettered: true });
    expect(summary).toMatchObject({ written: 140, failed: 10, failedBatches: 1, targets: 150 });
    expect(await ledger.record(upload, { batch: 1, written: 50, ...zero })).toBeUndefined();
    expect(summaryMessage(summary!).subject).toMatch(/FAILED for some of 150 devices/);
    expect(summaryMessage(summary!).message).toMatch(/dead-letter queue/);
  });
});
