import { describe, expect, it } from 'vitest';
import { FlapDetector } from '../../../agent/backoff';

function detector(stableMs = 1000) {
  let now = 0;
  const d = new FlapDetector({ stableMs, clock: () => now });
  return { d, advance: (ms: number) => (now += ms) };
}

describe('FlapDetector', () => {
  it('counts connections dropped before they were stable, in a row', () => {
    const { d, advance } = detector();
    const flaps = [];
    for (let i = 0; i < 3; i++) {
      d.connected();
      advance(200);
      flaps.push(d.closed());
    }
    expect(flaps.map((f) => f.flaps)).toEqual([1, 2, 3]);
    expect(flaps.every((f) => !f.stable && f.lastedMs === 200)).toBe(true);
  });

  it('calls a connection that lasted the stable time healthy and starts the count over', () => {
    const { d, advance } = detector();
    d.connected();
    advance(10);
    d.closed();
    d.connected();
    advance(1000);
    expect(d.closed()).toEqual({ lastedMs: 1000, stable: true, flaps: 0 });
    d.connected();
    advance(5);
    expect(d.closed().flaps).toBe(1);
  });

  it('does not count an attempt that never connected as a flap', () => {
    const { d, advance } = detector();
    d.connected();
    advance(5);
    d.closed();
    expect(d.closed()).toEqual({ lastedMs: undefined, stable: false, flaps: 1 });
  });
});
