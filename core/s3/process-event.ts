/**
 * One S3 event → the right desired value in the right shadows. Every record is handled (one
 * failing does not stop the others); the per-record outcome is returned, and the failures are
 * collected so the handler can throw once at the end for Lambda's retry. Handling a record twice
 * is harmless, which is what makes that retry safe.
 */
import type { S3Event } from 'aws-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { ShadowplugError, errorMessage } from '../errors';
import type { Logger } from '../logger';
import type { ObjectConfig } from './config';
import { buildDesired, decideCreate, decideRemove, objectUrl } from './desired';
import { S3ObjectChangedError, S3ObjectMissingError } from './errors';
import { parseS3Event, type ObjectChange } from './event';
import { hashObject } from './object-hash';
import { compareEvents } from './ordering';
import { routeKey } from './routing';
import { ShadowWriter } from './shadow-writer';

export interface ErrorSummary {
  code: string;
  message: string;
  retryable: boolean;
}

export type ThingOutcome =
  | { thing: string; result: 'written' | 'cleared'; version?: number }
  | { thing: string; result: 'unchanged' | 'older' | 'absent' | 'not-pointing' }
  | { thing: string; result: 'failed'; error: ErrorSummary };

export type RecordOutcome =
  | { status: 'applied'; eventName: string; bucket: string; key: string; hash?: string; hashSource?: 'checksum' | 'read'; things: ThingOutcome[] }
  | {
      status: 'skipped';
      eventName: string;
      bucket: string;
      key: string;
      reason: 'object-missing' | 'object-changed' | 'superseded' | 'no-default-target' | 'invalid-thing-name' | 'folder-marker';
      detail: string;
    }
  | { status: 'ignored'; eventName: string; reason: 'unsupported-event' | 'invalid-record'; detail?: string }
  | { status: 'failed'; eventName: string; bucket: string; key: string; error: ErrorSummary; things?: ThingOutcome[] };

export interface Outcome {
  records: RecordOutcome[];
}

export interface ProcessDeps {
  s3: S3Client;
  iotData: IoTDataPlaneClient;
  config: ObjectConfig;
  logger: Logger;
}

function summary(err: unknown): ErrorSummary {
  if (err instanceof ShadowplugError) return { code: err.code, message: err.message, retryable: err.retryable };
  return { code: 'UNEXPECTED', message: errorMessage(err), retryable: true };
}

/** Shadows of different things are independent: read and write up to this many at once (fleets). */
const THING_CONCURRENCY = 8;

/** `fn` over `items` with at most `limit` running at once; results in the items' order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** An unexpected (untyped) error is wrapped so the caller always sees a ShadowplugError. */
function typed(err: unknown): ShadowplugError {
  return err instanceof ShadowplugError ? err : new ShadowplugError(`unexpected: ${errorMessage(err)}`, { code: 'UNEXPECTED', retryable: true, cause: err });
}

export async function processObjectEvent(event: S3Event, deps: ProcessDeps): Promise<{ outcome: Outcome; failures: ShadowplugError[] }> {
  const { config, logger } = deps;
  const writer = new ShadowWriter(deps.iotData, {
    property: config.property,
    shadowName: config.shadowName,
    conflictRetries: config.conflictRetries,
    logger,
  });
  const records: RecordOutcome[] = [];
  const failures: ShadowplugError[] = [];

  for (const parsed of parseS3Event(event)) {
    if (parsed.type === 'ignored') {
      logger.info('event ignored: not ObjectCreated/ObjectRemoved', { eventName: parsed.eventName });
      records.push({ status: 'ignored', eventName: parsed.eventName, reason: parsed.reason });
      continue;
    }
    if (parsed.type === 'invalid') {
      // A retry cannot repair a malformed record: log loudly, do not throw.
      logger.error('event record invalid; ignored', { eventName: parsed.eventName, err: parsed.error });
      records.push({ status: 'ignored', eventName: parsed.eventName, reason: 'invalid-record', detail: parsed.error.message });
      continue;
    }
    const change = parsed.change;
    const log = logger.child({ eventName: change.eventName, bucket: change.bucket, key: change.key, sequencer: change.sequencer });
    try {
      const thingErrors: ShadowplugError[] = [];
      const outcome = await processChange(change, deps, writer, log, thingErrors);
      if (thingErrors.length > 0 && outcome.status === 'applied') {
        // Some things got the value, some did not: the retry completes the rest (the others are then unchanged).
        failures.push(...thingErrors);
        records.push({ status: 'failed', eventName: change.eventName, bucket: change.bucket, key: change.key, error: summary(thingErrors[0]), things: outcome.things });
      } else {
        records.push(outcome);
      }
    } catch (err) {
      const error = typed(err);
      failures.push(error);
      log.error('record failed; the event will be retried', { err: error });
      records.push({ status: 'failed', eventName: change.eventName, bucket: change.bucket, key: change.key, error: summary(error) });
    }
  }
  return { outcome: { records }, failures };
}

/** One created/removed object. Per-thing failures go to `thingErrors` so the other things still get theirs. */
async function processChange(change: ObjectChange, deps: ProcessDeps, writer: ShadowWriter, log: Logger, thingErrors: ShadowplugError[]): Promise<RecordOutcome> {
  const { config } = deps;
  const base = { eventName: change.eventName, bucket: change.bucket, key: change.key };
  const route = routeKey(change.key, config);
  if (route.type === 'none') {
    log.warn('object not routed to any thing; skipped', { reason: route.reason, detail: route.detail });
    return { status: 'skipped', ...base, reason: route.reason, detail: route.detail };
  }

  if (change.kind === 'removed') {
    const things = await mapLimit(route.things, THING_CONCURRENCY, async (thing): Promise<ThingOutcome> => {
      try {
        const r = await writer.apply(thing, (current) => {
          const d = decideRemove(current, change);
          return d.action === 'clear' ? { action: 'write', value: null } : d;
        });
        const outcome: ThingOutcome = r.result === 'written' ? { thing, result: 'cleared', version: r.version } : { thing, result: r.reason };
        log.info(r.result === 'written' ? 'desired value cleared' : 'removal does not affect this thing', { thing, result: outcome.result });
        return outcome;
      } catch (err) {
        return thingFailure(thing, err, thingErrors, log);
      }
    });
    return { status: 'applied', ...base, things };
  }

  // Before reading a possibly large object, see whether any thing could still take it: a
  // duplicate or delayed event is settled by the ordering data alone.
  const order = { url: objectUrl(change.bucket, change.key), sequencer: change.sequencer, eventTime: change.eventTime };
  const prechecked = await mapLimit(route.things, THING_CONCURRENCY, async (thing): Promise<{ thing: string; cmp: number }> => {
    let current: { url?: unknown; sequencer?: unknown; eventTime?: unknown } | undefined;
    try {
      current = (await writer.read(thing)).value as typeof current;
    } catch (err) {
      // The write path reads again and records the failure for this thing alone.
      log.debug('pre-check read failed', { thing, err });
      return { thing, cmp: 1 };
    }
    const known =
      current && typeof current.url === 'string' && typeof current.sequencer === 'string' && typeof current.eventTime === 'string'
        ? { url: current.url, sequencer: current.sequencer, eventTime: current.eventTime }
        : undefined;
    return { thing, cmp: known && !Number.isNaN(Date.parse(known.eventTime)) ? compareEvents(order, known) : 1 };
  });
  const candidates = prechecked.filter((p) => p.cmp > 0).map((p) => p.thing);
  const settled: ThingOutcome[] = prechecked.filter((p) => p.cmp <= 0).map((p) => ({ thing: p.thing, result: p.cmp === 0 ? 'unchanged' : 'older' }));
  if (candidates.length === 0) {
    log.info('every target already holds this event or a newer one; object not read', { things: route.things });
    return { status: 'skipped', ...base, reason: 'superseded', detail: settled.map((t) => `${t.thing}: ${t.result}`).join(', ') };
  }

  let hashed;
  try {
    hashed = await hashObject(deps.s3, { bucket: change.bucket, key: change.key, size: change.size ?? 0, versionId: change.versionId, eTag: change.eTag }, {
      partSizeBytes: config.partSizeBytes,
      concurrency: config.concurrency,
      parallelBelowMiBPerS: config.parallelBelowMiBPerS,
    });
  } catch (err) {
    if (err instanceof S3ObjectMissingError) {
      log.info('object is gone; skipped (its removal event clears the shadow)', { err });
      return { status: 'skipped', ...base, reason: 'object-missing', detail: err.message };
    }
    if (err instanceof S3ObjectChangedError) {
      log.info('object overwritten since this event; skipped (its own event will come)', { err });
      return { status: 'skipped', ...base, reason: 'object-changed', detail: err.message };
    }
    throw err;
  }
  log.info('object hashed', { hash: hashed.hash, size: hashed.size, source: hashed.source, ...(hashed.read ? { read: hashed.read } : {}) });

  const desired = buildDesired(change, hashed.hash, hashed.size);
  const written = await mapLimit(candidates, THING_CONCURRENCY, async (thing): Promise<ThingOutcome> => {
    try {
      const r = await writer.apply(thing, (current) => decideCreate(current, desired));
      const outcome: ThingOutcome = r.result === 'written' ? { thing, result: 'written', version: r.version } : { thing, result: r.reason };
      log.info(r.result === 'written' ? 'desired value written' : 'shadow not changed', { thing, result: outcome.result, hash: desired.hash });
      return outcome;
    } catch (err) {
      return thingFailure(thing, err, thingErrors, log);
    }
  });
  // In routing order, whichever way each thing was settled.
  const byThing = new Map([...settled, ...written].map((t) => [t.thing, t]));
  const things = route.things.map((t) => byThing.get(t)!);
  return { status: 'applied', ...base, hash: hashed.hash, hashSource: hashed.source, things };
}

function thingFailure(thing: string, err: unknown, thingErrors: ShadowplugError[], log: Logger): ThingOutcome {
  const error = typed(err);
  thingErrors.push(error);
  log.error('shadow write failed', { thing, err: error });
  return { thing, result: 'failed', error: summary(error) };
}
