/**
 * Which of two object events is newer. Pure.
 *
 * S3 delivers at least once and in any order. For the same key, `sequencer` orders events:
 * right-pad the shorter hex string with zeros, then compare. It cannot order different keys,
 * so there the event time decides (millisecond resolution); an exact tie is broken by the
 * key so that the outcome never depends on delivery order.
 */

/** The ordering data an event (and the desired value it produced) carries. */
export interface EventOrder {
  /** `s3://bucket/key`: the identity of the key. */
  url: string;
  sequencer: string;
  eventTime: string;
}

/** <0 when a is older, 0 when equal, >0 when a is newer. Hex of any length and case. */
export function compareSequencers(a: string, b: string): number {
  const width = Math.max(a.length, b.length);
  const pa = a.toUpperCase().padEnd(width, '0');
  const pb = b.toUpperCase().padEnd(width, '0');
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/** <0 when a is older than b, 0 for the same event, >0 when a is newer. */
export function compareEvents(a: EventOrder, b: EventOrder): number {
  if (a.url === b.url) return compareSequencers(a.sequencer, b.sequencer);
  const ta = Date.parse(a.eventTime);
  const tb = Date.parse(b.eventTime);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.url < b.url ? -1 : 1;
}
