import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareEvents, compareSequencers, type EventOrder } from '../../../core/s3/desired';

describe('compareSequencers', () => {
  it('right-pads the shorter hex string with zeros before comparing', () => {
    expect(compareSequencers('0055AED6DCD90281E5', '0055AED6DCD90281E6')).toBeLessThan(0);
    expect(compareSequencers('0055AED6DCD9028', '0055AED6DCD90281E5')).toBeLessThan(0);
    expect(compareSequencers('0055AED6DCD9029', '0055AED6DCD90281E5')).toBeGreaterThan(0);
    expect(compareSequencers('AB', 'ab00')).toBe(0);
  });
  it('is antisymmetric', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9A-F]{1,20}$/), fc.stringMatching(/^[0-9A-F]{1,20}$/), (a, b) => {
        expect(Math.sign(compareSequencers(a, b)) + Math.sign(compareSequencers(b, a))).toBe(0); // (avoid -0 vs 0)
      }),
    );
  });
});

describe('compareEvents', () => {
  const e = (url: string, sequencer: string, eventTime: string): EventOrder => ({ url, sequencer, eventTime });
  it('orders the same key by sequencer, whatever the event times say', () => {
    expect(compareEvents(e('s3://b/k', '02', '2026-01-01T00:00:00Z'), e('s3://b/k', '01', '2026-01-02T00:00:00Z'))).toBeGreaterThan(0);
  });
  it('orders different keys by event time', () => {
    expect(compareEvents(e('s3://b/a', '01', '2026-01-02T00:00:00Z'), e('s3://b/b', '09', '2026-01-01T00:00:00Z'))).toBeGreaterThan(0);
  });
  it('breaks an exact time tie between different keys by key, so delivery order never matters', () => {
    const a = e('s3://b/a', '01', '2026-01-01T00:00:00Z');
    const b = e('s3://b/b', '01', '2026-01-01T00:00:00Z');
    expect(compareEvents(a, b)).toBeLessThan(0);
    expect(compareEvents(b, a)).toBeGreaterThan(0);
  });
  it('picks the same newest event whatever the delivery order (realistic events: per key, the sequencer grows with time)', () => {
    const arb = fc
      .array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), ms: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 7 })
      .map((raw) => {
        // S3 issues each key's sequencers in time order; ties in the millisecond stay possible.
        const sorted = [...raw].sort((x, y) => x.ms - y.ms);
        const next: Record<string, number> = {};
        return sorted.map(({ key, ms }) => {
          next[key] = (next[key] ?? 0) + 1;
          return e(`s3://b/${key}`, next[key]!.toString(16).padStart(4, '0').toUpperCase(), `2026-01-01T00:00:00.00${ms}Z`);
        });
      })
      .chain((events) => fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length })));
    fc.assert(
      fc.property(arb, ([inOrder, shuffled]) => {
        const fold = (list: EventOrder[]) => list.reduce((best, x) => (compareEvents(x, best) > 0 ? x : best));
        expect(fold(shuffled)).toEqual(fold(inOrder));
      }),
    );
  });
});
