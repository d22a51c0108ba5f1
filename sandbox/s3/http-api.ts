/**
 * The S3 REST API subset the sandbox, the agent and the tests use, over an ObjectStore: objects
 * (PUT, conditional with `If-Match`/`If-None-Match: *`; GET and HEAD with `versionId`, `Range`,
 * `If-Match`/`If-None-Match`; DELETE with or without `versionId`), buckets (create, head,
 * versioning, ListObjectsV2, ListObjectVersions). Errors are S3's XML errors, so the AWS SDK maps
 * them as it maps AWS's. One access key is accepted; signatures are not checked (a stand-in on
 * 127.0.0.1). `aws-chunked` bodies are decoded. Anything else (multipart, copy) answers 501.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { readBody } from '../http-server';
import { ChunkedBodyError, decodeAwsChunked } from './aws-chunked';
import type { ObjectStore } from './object-store';
import { NULL_VERSION, type ObjectVersion, type Versioning } from './versions';

/** What a successful put or delete changed, for the bucket's event notification. */
export interface StoreChange {
  eventName: 'ObjectCreated:Put' | 'ObjectRemoved:Delete' | 'ObjectRemoved:DeleteMarkerCreated';
  bucket: string;
  key: string;
  size?: number;
  /** Unquoted. */
  eTag?: string;
  versionId?: string;
}

export interface S3ApiContext {
  store: ObjectStore;
  accessKeyId: string;
  onChange: (change: StoreChange) => void;
}

class S3ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const MAX_KEY_BYTES = 1024;
const MAX_BUCKET_BODY_BYTES = 64 * 1024;

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

function sendXml(res: ServerResponse, status: number, xml: string, headers: Record<string, string> = {}): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function sendError(req: IncomingMessage, res: ServerResponse, err: S3ApiError, resource: string): void {
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  const headers = { 'x-amz-request-id': requestId, ...err.headers };
  // HEAD answers carry no body: the SDK then names the error after the status (e.g. NotFound).
  if (req.method === 'HEAD') {
    res.writeHead(err.status, headers).end();
    return;
  }
  sendXml(res, err.status, `<Error><Code>${err.code}</Code><Message>${xmlEscape(err.message)}</Message><Resource>${xmlEscape(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`, headers);
}

/** The access key of a SigV4 request (header or presigned query), or undefined when anonymous. */
function accessKeyOf(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const header = req.headers.authorization;
  return header ? /Credential=([^/,\s]+)\//.exec(header)?.[1] : query.get('X-Amz-Credential')?.split('/')[0];
}

interface Target {
  bucket: string;
  /** Undefined for a bucket request. */
  key: string | undefined;
  query: URLSearchParams;
}

/** Path-style: `/<bucket>/<key>`. The key is decoded once and taken literally (`..` is just text). */
function parseTarget(url: string): Target {
  const q = url.indexOf('?');
  const path = q >= 0 ? url.slice(0, q) : url;
  const query = new URLSearchParams(q >= 0 ? url.slice(q + 1) : '');
  const slash = path.indexOf('/', 1);
  const bucket = decodeURIComponent(slash >= 0 ? path.slice(1, slash) : path.slice(1));
  const rawKey = slash >= 0 ? path.slice(slash + 1) : '';
  return { bucket, key: rawKey === '' ? undefined : decodeURIComponent(rawKey), query };
}

export async function handleS3Request(ctx: S3ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let resource = req.url ?? '/';
  try {
    const target = parseTarget(req.url ?? '/');
    resource = target.key === undefined ? `/${target.bucket}` : `/${target.bucket}/${target.key}`;
    const key = accessKeyOf(req, target.query);
    if (key === undefined) throw new S3ApiError(403, 'AccessDenied', 'Anonymous requests are not accepted');
    if (key !== ctx.accessKeyId) throw new S3ApiError(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    if (target.bucket === '') throw new S3ApiError(501, 'NotImplemented', 'ListBuckets is not implemented by the local S3');
    if (target.key === undefined) await bucketRequest(ctx, req, res, target);
    else await objectRequest(ctx, req, res, target.bucket, target.key, target.query);
  } catch (err) {
    req.resume();
    if (res.headersSent) {
      res.destroy(err as Error);
      return;
    }
    sendError(req, res, err instanceof S3ApiError ? err : new S3ApiError(500, 'InternalError', (err as Error).message), resource);
  }
}

/** A bucket request's configuration body; S3's are a few hundred bytes. */
async function bucketBody(req: IncomingMessage): Promise<Buffer> {
  const body = await readBody(req, MAX_BUCKET_BODY_BYTES);
  if (body === undefined) throw new S3ApiError(400, 'MaxMessageLengthExceeded', `Your request was too big (at most ${MAX_BUCKET_BODY_BYTES} bytes)`);
  return body;
}

function requireBucket(ctx: S3ApiContext, bucket: string): Versioning {
  const versioning = ctx.store.getVersioning(bucket);
  if (!versioning) throw new S3ApiError(404, 'NoSuchBucket', 'The specified bucket does not exist');
  return versioning;
}

async function bucketRequest(ctx: S3ApiContext, req: IncomingMessage, res: ServerResponse, { bucket, query }: Target): Promise<void> {
  if (req.method === 'PUT' && query.has('versioning')) {
    requireBucket(ctx, bucket);
    const status = /<Status>(\w+)<\/Status>/.exec((await bucketBody(req)).toString('utf8'))?.[1];
    if (status !== 'Enabled') throw new S3ApiError(501, 'NotImplemented', `versioning status ${status ?? '(none)'}: the local S3 knows Enabled and never-versioned buckets`);
    ctx.store.setVersioning(bucket, 'Enabled');
    res.writeHead(200).end();
    return;
  }
  if (req.method === 'PUT' && [...query.keys()].length === 0) {
    await bucketBody(req);
    ctx.store.createBucket(bucket, 'Unversioned');
    res.writeHead(200, { Location: `/${bucket}` }).end();
    return;
  }
  if (req.method === 'HEAD') {
    requireBucket(ctx, bucket);
    res.writeHead(200).end();
    return;
  }
  if (req.method === 'GET' && query.has('versioning')) {
    const versioning = requireBucket(ctx, bucket);
    sendXml(res, 200, `<VersioningConfiguration xmlns="${XMLNS}">${versioning === 'Enabled' ? '<Status>Enabled</Status>' : ''}</VersioningConfiguration>`);
    return;
  }
  if (req.method === 'GET' && query.has('versions')) return listVersions(ctx, res, bucket, query.get('prefix') ?? '');
  if (req.method === 'GET' && query.get('list-type') === '2') return listObjects(ctx, res, bucket, query.get('prefix') ?? '');
  throw new S3ApiError(501, 'NotImplemented', `${req.method} on a bucket with ${[...query.keys()].join(', ') || 'no query'} is not implemented by the local S3`);
}

function versionXml(key: string, v: ObjectVersion, isLatest: boolean): string {
  const common = `<Key>${xmlEscape(key)}</Key><VersionId>${xmlEscape(v.versionId)}</VersionId><IsLatest>${isLatest}</IsLatest><LastModified>${v.lastModified}</LastModified>`;
  if (v.deleteMarker) return `<DeleteMarker>${common}</DeleteMarker>`;
  return `<Version>${common}<ETag>${xmlEscape(v.etag)}</ETag><Size>${v.size}</Size><StorageClass>STANDARD</StorageClass></Version>`;
}

function listVersions(ctx: S3ApiContext, res: ServerResponse, bucket: string, prefix: string): void {
  requireBucket(ctx, bucket);
  const entries = ctx.store.listVersions(bucket, prefix).flatMap((h) => h.versions.map((v, i) => versionXml(h.key, v, i === 0)));
  sendXml(res, 200, `<ListVersionsResult xmlns="${XMLNS}"><Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${entries.join('')}</ListVersionsResult>`);
}

function listObjects(ctx: S3ApiContext, res: ServerResponse, bucket: string, prefix: string): void {
  requireBucket(ctx, bucket);
  const current = ctx.store.listVersions(bucket, prefix).filter((h) => !h.versions[0]!.deleteMarker);
  const contents = current.map((h) => {
    const v = h.versions[0]!;
    return `<Contents><Key>${xmlEscape(h.key)}</Key><LastModified>${v.lastModified}</LastModified><ETag>${xmlEscape(v.etag)}</ETag><Size>${v.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
  });
  sendXml(res, 200, `<ListBucketResult xmlns="${XMLNS}"><Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${contents.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents.join('')}</ListBucketResult>`);
}

async function objectRequest(ctx: S3ApiContext, req: IncomingMessage, res: ServerResponse, bucket: string, key: string, query: URLSearchParams): Promise<void> {
  const versioning = requireBucket(ctx, bucket);
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new S3ApiError(400, 'KeyTooLongError', `Your key is too long (at most ${MAX_KEY_BYTES} bytes)`);
  if (query.has('uploads') || query.has('uploadId')) throw new S3ApiError(501, 'NotImplemented', 'multipart uploads are not implemented by the local S3');
  const versionId = query.get('versionId') ?? undefined;
  switch (req.method) {
    case 'GET':
    case 'HEAD':
      return readObject(ctx, req, res, bucket, key, versionId);
    case 'PUT':
      return putObject(ctx, req, res, bucket, key, versioning);
    case 'DELETE': {
      const out = await ctx.store.delete(bucket, key, versionId);
      const headers: Record<string, string> = {};
      if (out.versionId !== undefined) headers['x-amz-version-id'] = out.versionId;
      if (out.deleteMarker) headers['x-amz-delete-marker'] = 'true';
      res.writeHead(204, headers).end();
      ctx.onChange({ eventName: out.eventName, bucket, key, ...(out.versionId !== undefined ? { versionId: out.versionId } : {}) });
      return;
    }
    default:
      throw new S3ApiError(501, 'NotImplemented', `${req.method} on an object is not implemented by the local S3`);
  }
}

async function putObject(ctx: S3ApiContext, req: IncomingMessage, res: ServerResponse, bucket: string, key: string, versioning: Versioning): Promise<void> {
  if (req.headers['x-amz-copy-source']) throw new S3ApiError(501, 'NotImplemented', 'CopyObject is not implemented by the local S3');
  const chunked = String(req.headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-') || String(req.headers['content-encoding'] ?? '').includes('aws-chunked');
  let version: ObjectVersion;
  try {
    const declared = req.headers['x-amz-decoded-content-length'];
    version = await ctx.store.put(bucket, key, chunked ? Readable.from(decodeAwsChunked(req, declared === undefined ? undefined : Number(declared))) : req, writeCondition(req));
  } catch (err) {
    if (err instanceof ChunkedBodyError) throw new S3ApiError(400, 'IncompleteBody', err.message);
    throw err;
  }
  const headers: Record<string, string> = { ETag: version.etag };
  if (versioning === 'Enabled') headers['x-amz-version-id'] = version.versionId;
  res.writeHead(200, headers).end();
  ctx.onChange({
    eventName: 'ObjectCreated:Put',
    bucket,
    key,
    size: version.size,
    eTag: version.etag.replace(/"/g, ''),
    ...(version.versionId !== NULL_VERSION ? { versionId: version.versionId } : {}),
  });
}

/**
 * S3's conditional writes: `If-None-Match: *` refuses when the key has an object (412), `If-Match`
 * when its ETag differs (412) or it has none (404 NoSuchKey). Checked with the write, atomically.
 */
function writeCondition(req: IncomingMessage): ((current: ObjectVersion | undefined) => void) | undefined {
  const ifNoneMatch = req.headers['if-none-match'];
  const ifMatch = req.headers['if-match'];
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') throw new S3ApiError(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented (If-None-Match other than *)');
  return (current) => {
    if (ifNoneMatch !== undefined && current) throw new S3ApiError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    if (ifMatch !== undefined && !current) throw new S3ApiError(404, 'NoSuchKey', 'The specified key does not exist.');
    if (ifMatch !== undefined && current && !etagMatches(ifMatch, current.etag)) throw new S3ApiError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
  };
}

/** `Range: bytes=a-b | a- | -n` → inclusive [start, end]; undefined when absent or not understood (S3 then sends it all). */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

function etagMatches(header: string, etag: string): boolean {
  return header.split(',').some((t) => {
    const v = t.trim();
    return v === '*' || v.replace(/^W\//, '').replace(/"/g, '') === etag.replace(/"/g, '');
  });
}

function readObject(ctx: S3ApiContext, req: IncomingMessage, res: ServerResponse, bucket: string, key: string, versionId: string | undefined): void {
  const found = ctx.store.read(bucket, key, versionId);
  if (found.type === 'no-such-key') {
    const headers: Record<string, string> = found.marker ? { 'x-amz-delete-marker': 'true', 'x-amz-version-id': found.marker.versionId } : {};
    throw new S3ApiError(404, 'NoSuchKey', 'The specified key does not exist.', headers);
  }
  if (found.type === 'no-such-version') throw new S3ApiError(404, 'NoSuchVersion', 'The specified version does not exist.');
  if (found.type === 'delete-marker') {
    throw new S3ApiError(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', { 'x-amz-delete-marker': 'true', 'x-amz-version-id': found.marker.versionId, Allow: 'DELETE' });
  }
  const v = found.version;
  const ifMatch = req.headers['if-match'];
  if (ifMatch !== undefined && !etagMatches(ifMatch, v.etag)) throw new S3ApiError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
  const headers: Record<string, string | number> = { ETag: v.etag, 'Last-Modified': new Date(v.lastModified).toUTCString(), 'Accept-Ranges': 'bytes', 'Content-Type': 'binary/octet-stream' };
  if (v.versionId !== NULL_VERSION) headers['x-amz-version-id'] = v.versionId;
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, v.etag)) {
    res.writeHead(304, headers).end();
    return;
  }
  const range = parseRange(req.headers.range, v.size);
  if (range === 'unsatisfiable') throw new S3ApiError(416, 'InvalidRange', 'The requested range is not satisfiable', { 'Content-Range': `bytes */${v.size}` });
  const start = range?.start ?? 0;
  const end = range?.end ?? v.size - 1;
  headers['Content-Length'] = v.size === 0 ? 0 : end - start + 1;
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${v.size}`;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD' || v.size === 0) {
    res.end();
    return;
  }
  // A read error cuts the answer; a client that hangs up stops the read.
  pipeline(ctx.store.openBlob(bucket, v, start, end), res, () => undefined);
}
