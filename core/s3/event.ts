/** S3 event notification records → what the Lambda acts on, keys decoded once here. Pure. */
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { S3EventRecordError } from './s3-errors';

export type ObjectChangeKind = 'created' | 'removed';

/** One record the Lambda acts on, with the key decoded. */
export interface ObjectChange {
  kind: ObjectChangeKind;
  eventName: string;
  bucket: string;
  key: string;
  /** Hex, as S3 sent it; orders events of the same key. */
  sequencer: string;
  /** ISO 8601, as S3 sent it; orders events of different keys. */
  eventTime: string;
  /** Present for ObjectCreated (the announced bytes). */
  size?: number;
  /** Without quotes. Present for ObjectCreated. */
  eTag?: string;
  /** Present when the bucket is versioned. */
  versionId?: string;
}

export type ParsedRecord =
  | { type: 'change'; change: ObjectChange }
  | { type: 'ignored'; eventName: string; reason: 'unsupported-event' }
  | { type: 'invalid'; eventName: string; error: S3EventRecordError };

/** Keys arrive form-encoded: `+` is a space, then UTF-8 percent escapes. */
export function decodeS3Key(encoded: string): string {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch (cause) {
    throw new S3EventRecordError(`object key ${JSON.stringify(encoded)} is not valid URL encoding`, cause);
  }
}

const HEX = /^[0-9A-Fa-f]+$/;

/** Parse one record; throws `S3EventRecordError` naming the missing or malformed field. */
export function parseRecord(record: S3EventRecord): ParsedRecord {
  const eventName = typeof record?.eventName === 'string' ? record.eventName : '';
  if (eventName === '') {
    return { type: 'invalid', eventName, error: new S3EventRecordError('record has no eventName') };
  }
  const kind = eventName.startsWith('ObjectCreated:') ? 'created' : eventName.startsWith('ObjectRemoved:') ? 'removed' : undefined;
  if (!kind) return { type: 'ignored', eventName, reason: 'unsupported-event' };
  try {
    return { type: 'change', change: toChange(record, kind, eventName) };
  } catch (err) {
    const error = err instanceof S3EventRecordError ? err : new S3EventRecordError(`malformed ${eventName} record`, err);
    return { type: 'invalid', eventName, error };
  }
}

function toChange(record: S3EventRecord, kind: ObjectChangeKind, eventName: string): ObjectChange {
  const s3 = record.s3;
  const bucket = s3?.bucket?.name;
  const object = s3?.object;
  if (typeof bucket !== 'string' || bucket === '') throw new S3EventRecordError(`${eventName}: s3.bucket.name missing`);
  if (!object || typeof object.key !== 'string' || object.key === '') throw new S3EventRecordError(`${eventName} in ${bucket}: s3.object.key missing`);
  const key = decodeS3Key(object.key);
  const where = `${eventName} s3://${bucket}/${key}`;
  const sequencer = object.sequencer;
  if (typeof sequencer !== 'string' || !HEX.test(sequencer)) throw new S3EventRecordError(`${where}: s3.object.sequencer missing or not hex`);
  const eventTime = record.eventTime;
  if (typeof eventTime !== 'string' || Number.isNaN(Date.parse(eventTime))) throw new S3EventRecordError(`${where}: eventTime missing or not a date`);
  const change: ObjectChange = { kind, eventName, bucket, key, sequencer: sequencer.toUpperCase(), eventTime };
  const versionId = object.versionId;
  if (typeof versionId === 'string' && versionId !== '' && versionId !== 'null') change.versionId = versionId;
  if (kind === 'created') {
    const size = object.size;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new S3EventRecordError(`${where}: s3.object.size missing or invalid`);
    change.size = size;
    const eTag = object.eTag;
    if (typeof eTag !== 'string' || eTag === '') throw new S3EventRecordError(`${where}: s3.object.eTag missing`);
    change.eTag = stripQuotes(eTag);
  }
  return change;
}

/** ETags come quoted in HTTP headers and bare in events. */
export function stripQuotes(eTag: string): string {
  return eTag.replace(/^W\//, '').replace(/^"|"$/g, '');
}

/** Every record of an event, in the order S3 sent them. */
export function parseS3Event(event: S3Event): ParsedRecord[] {
  const records = Array.isArray(event?.Records) ? event.Records : [];
  return records.map(parseRecord);
}
