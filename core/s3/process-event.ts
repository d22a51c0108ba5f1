/**
 * One S3 event → the right desired value in the right shadows. Every record is handled (one failing
 * does not stop the others); the failures are collected so the handler throws once, for Lambda's
 * retry, which is safe because handling a record twice is harmless.
 */
import type { S3Event } from 'aws-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { ShadowplugError, errorMessage } from '../errors';
import type { Logger } from '../logger';
import type { ObjectConfig } from './config';
import { currentObject, type KeyState } from './object-get';
import { decideForKey, type ExistingObject, type KeyDecision } from './desired';
import { S3ObjectChangedError, S3ObjectMissingError } from './s3-errors';
import { parseS3Event, type ObjectChange } from './event';
import { hashObject, type ObjectHash } from './object-hash';
import { ShadowWriter, type ShadowDecision } from './shadow-writer';
import { mapLimit } from '../util/map-limit';
import { batchesOf } from '../fleet/message';
import type { Enqueue } from '../fleet/sqs-queue';
import { routeKey, routeWithGroups, type TargetResolver } from '../fleet/targets';
import { leftToCompanion, releaseTarget, type PromptedChange } from '../release/companion';
import { withRelease } from '../release/companion-read';

export interface ErrorSummary {
  code: string;
  message: string;
  retryable: boolean;
}

export type ThingOutcome =
  | { thing: string; result: 'written' | 'cleared'; version?: number }
  | { thing: string; result: 'unchanged' | 'older' | 'absent' | 'not-pointing' }
  | { thing: string; result: 'failed'; error: ErrorSummary };

type At = { eventName: string; bucket: string; key: string };
type RecordSkip = 'object-missing' | 'object-changed' | 'superseded' | 'no-default-target' | 'no-targets' | 'invalid-thing-name' | 'folder-marker' | 'release-pending';

export type RecordOutcome =
  | (At & { status: 'applied'; hash?: string; hashSource?: 'checksum' | 'read'; things: ThingOutcome[] })
  | (At & { status: 'skipped'; reason: RecordSkip; detail: string })
  /** Too many targets to write here: their batches are on the fan-out queue (core/fleet). */
  | (At & { status: 'queued'; hash?: string; uploadId: string; targets: number; batches: number })
  | { status: 'ignored'; eventName: string; reason: 'unsupported-event' | 'invalid-record' | 'release-counter'; detail?: string }
  | (At & { status: 'failed'; error: ErrorSummary; things?: ThingOutcome[] });

export interface Outcome {
  records: RecordOutcome[];
}

export interface ProcessDeps {
  s3: S3Client;
  iotData: IoTDataPlaneClient;
  config: ObjectConfig;
  logger: Logger;
  /** Lists the members of `config.thingGroups` (required when groups are configured). */
  targets?: TargetResolver;
  /** The fan-out queue: more than `config.fanOutAbove` targets go there. */
  enqueue?: Enqueue;
}

const summary = (err: ShadowplugError): ErrorSummary => ({ code: err.code, message: err.message, retryable: err.retryable });

/** Shadows of different things are independent: read and write up to this many at once (fleets). */
const THING_CONCURRENCY = 8;

/** HeadObject, then read: the key may change in between; this many looks before giving up. */
const STATE_ATTEMPTS = 3;

function typed(err: unknown): ShadowplugError {
  return err instanceof ShadowplugError ? err : new ShadowplugError(`unexpected: ${errorMessage(err)}`, { code: 'UNEXPECTED', retryable: true, cause: err });
}

export async function processObjectEvent(event: S3Event, deps: ProcessDeps): Promise<{ outcome: Outcome; failures: ShadowplugError[] }> {
  const { config, logger } = deps;
  const writer = new ShadowWriter(deps.iotData, { property: config.shadowProperty, shadowName: config.shadowName, conflictRetries: config.conflictRetries, logger });
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
    // A companion release object prompts its key; the release counter prompts nothing.
    const change = releaseTarget(parsed.change);
    if (change === 'counter') {
      records.push({ status: 'ignored', eventName: parsed.change.eventName, reason: 'release-counter' });
      continue;
    }
    const log = logger.child({ eventName: change.eventName, bucket: change.bucket, key: change.key, sequencer: change.sequencer });
    try {
      const thingErrors: ShadowplugError[] = [];
      const outcome = await processChange(change, deps, writer, log, thingErrors);
      if (thingErrors.length > 0 && outcome.status === 'applied') {
        // Some things got the value, some did not: the retry completes the rest (the others are then unchanged).
        failures.push(...thingErrors);
        records.push({ status: 'failed', eventName: change.eventName, bucket: change.bucket, key: change.key, error: summary(thingErrors[0]!), things: outcome.things });
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

/**
 * One created/removed object. Either kind is settled the same way: the key's current state (a
 * HeadObject without VersionId) decides, not what the event says happened, so any delivery order
 * ends with every thing naming the key's current object or cleared. Per-thing failures go to
 * `thingErrors` so the other things still get theirs.
 */
async function processChange(change: PromptedChange, deps: ProcessDeps, writer: ShadowWriter, log: Logger, thingErrors: ShadowplugError[]): Promise<RecordOutcome> {
  const base = { eventName: change.eventName, bucket: change.bucket, key: change.key };
  const { config } = deps;
  const route = await routeWithGroups(routeKey(change.key, config), config.targetThings, config.thingGroups ?? [], deps.targets);
  if (route.type === 'none') {
    log.warn('object not routed to any thing; skipped', { reason: route.reason, detail: route.detail });
    return { status: 'skipped', ...base, reason: route.reason, detail: route.detail };
  }
  // After a write the key is looked at again; a state seen then is decided on next.
  let seen: KeyState | undefined;
  for (let attempt = 1; ; attempt++) {
    const current = seen ?? (await currentObject(deps.s3, change.bucket, change.key));
    seen = undefined;
    const state = await withRelease(deps.s3, change.bucket, change.key, current, log);
    log.debug('current state of the key', { state });
    if (state.exists && leftToCompanion(change, state)) {
      log.info('the key\'s current version is published as a signed release; its companion\'s event delivers it', { versionId: state.versionId });
      return { status: 'skipped', ...base, reason: 'release-pending', detail: "its signed release is delivered by its companion's event" };
    }
    // A fleet is not read shadow by shadow here: the worker decides per thing from the key's state.
    const queued = deps.enqueue !== undefined && route.things.length > (config.fanOutAbove ?? Infinity);
    // Before reading a possibly large object, see whether any thing needs it: a duplicate or
    // delayed event is settled by the stored value and the key's state alone.
    const prechecked = queued
      ? route.things.map((thing): { thing: string; decision: KeyDecision } => ({ thing, decision: state.exists ? { action: 'hash' } : { action: 'clear' } }))
      : await mapLimit(route.things, THING_CONCURRENCY, async (thing) => ({ thing, decision: await precheck(writer, thing, change, state, log) }));
    const candidates = prechecked.filter((p) => p.decision.action !== 'skip').map((p) => p.thing);
    const settled: ThingOutcome[] = prechecked.flatMap((p) => (p.decision.action === 'skip' ? [{ thing: p.thing, result: p.decision.reason }] : []));
    if (candidates.length === 0 && state.exists) {
      log.info('every target already names the key\'s current object, or follows a newer key; object not read', { things: route.things });
      return { status: 'skipped', ...base, reason: 'superseded', detail: settled.map((t) => `${t.thing}: ${t.result}`).join(', ') };
    }
    let hashed: ObjectHash | undefined;
    if (state.exists && prechecked.some((p) => p.decision.action === 'hash')) {
      try {
        hashed = await hashCurrent(deps, change, state);
      } catch (err) {
        if (!(err instanceof S3ObjectMissingError || err instanceof S3ObjectChangedError)) throw err;
        // The key changed between the HeadObject and the read: look again.
        if (attempt < STATE_ATTEMPTS) continue;
        log.info('key keeps changing while it is read; skipped (its own events will come)', { err });
        return { status: 'skipped', ...base, reason: err instanceof S3ObjectMissingError ? 'object-missing' : 'object-changed', detail: err.message };
      }
      log.info('object hashed', { hash: hashed.hash, size: hashed.size, versionId: state.versionId, source: hashed.source, ...(hashed.read ? { read: hashed.read } : {}) });
    }
    if (queued) {
      const batches = batchesOf(change, state, hashed?.hash, route.things);
      await deps.enqueue!(batches);
      log.info('fan-out queued', { uploadId: batches[0]!.uploadId, targets: route.things.length, batches: batches.length });
      return { status: 'queued', ...base, ...(hashed ? { hash: hashed.hash } : {}), uploadId: batches[0]!.uploadId, targets: route.things.length, batches: batches.length };
    }
    const written = await mapLimit(candidates, THING_CONCURRENCY, (thing) => applyToThing(writer, thing, change, state, hashed?.hash, log, thingErrors));
    if (written.some((t) => t.result === 'written' || t.result === 'cleared')) {
      const after = await currentObject(deps.s3, change.bucket, change.key);
      if (!sameState(after, state)) {
        // Our state was read before another upload (or delete) whose invocation may already have
        // written: what we just wrote may be older than the key. Decide again on the new state.
        if (attempt >= STATE_ATTEMPTS) {
          const message = `s3://${change.bucket}/${change.key}: the key kept changing while its value was written (${STATE_ATTEMPTS} looks); the event will be retried`;
          throw new ShadowplugError(message, { code: 'S3_KEY_CHANGING', retryable: true });
        }
        log.info('key changed while its value was written; deciding again on its new state', { before: state, after });
        seen = after;
        continue;
      }
    }
    // In routing order, whichever way each thing was settled.
    const byThing = new Map([...settled, ...written].map((t) => [t.thing, t]));
    const things = route.things.map((t) => byThing.get(t)!);
    return { status: 'applied', ...base, ...(hashed ? { hash: hashed.hash, hashSource: hashed.source } : {}), things };
  }
}

/** Same object (version; unversioned: ETag and size), or both missing. */
function sameState(a: KeyState, b: KeyState): boolean {
  if (!a.exists || !b.exists) return a.exists === b.exists;
  return a.versionId === b.versionId && a.eTag === b.eTag && a.size === b.size;
}

async function precheck(writer: ShadowWriter, thing: string, change: ObjectChange, state: KeyState, log: Logger): Promise<KeyDecision> {
  try {
    return decideForKey((await writer.read(thing)).value, change, state);
  } catch (err) {
    // The write path reads again and records the failure for this thing alone.
    log.debug('pre-check read failed', { thing, err });
    return state.exists ? { action: 'hash' } : { action: 'clear' };
  }
}

/** The SHA-256 of the key's current object, pinned to its version (or ETag when unversioned). */
function hashCurrent(deps: ProcessDeps, change: ObjectChange, state: ExistingObject): Promise<ObjectHash> {
  const { config } = deps;
  return hashObject(deps.s3, { bucket: change.bucket, key: change.key, size: state.size, versionId: state.versionId, eTag: state.eTag || undefined }, {
    partSizeBytes: config.partSizeBytes,
    concurrency: config.readConcurrency,
    parallelBelowMiBPerS: config.parallelBelowMiBPerS,
  });
}

/** Read-compare-write of one thing's value against the key's state. */
async function applyToThing(writer: ShadowWriter, thing: string, change: ObjectChange, state: KeyState, hash: string | undefined, log: Logger, thingErrors: ShadowplugError[]): Promise<ThingOutcome> {
  try {
    let cleared = false;
    const r = await writer.apply(thing, (current): ShadowDecision<SkipReason> => {
      const d = decideForKey(current, change, state, hash);
      cleared = d.action === 'clear';
      if (d.action === 'write') return d;
      if (d.action === 'clear') return { action: 'write', value: null };
      // 'hash' without a hash: the value changed since the pre-check; the next event settles it.
      return d.action === 'skip' ? d : { action: 'skip', reason: 'older' };
    });
    const outcome: ThingOutcome = r.result === 'written' ? { thing, result: cleared ? 'cleared' : 'written', version: r.version } : { thing, result: r.reason };
    log.info(r.result === 'skipped' ? 'shadow not changed' : cleared ? 'desired value cleared: the key does not exist' : 'desired value written', { thing, result: outcome.result, hash });
    return outcome;
  } catch (err) {
    const error = typed(err);
    thingErrors.push(error);
    log.error('shadow write failed', { thing, err: error });
    return { thing, result: 'failed', error: summary(error) };
  }
}

type SkipReason = 'unchanged' | 'older' | 'absent' | 'not-pointing';
