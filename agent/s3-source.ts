/**
 * The one S3 call the agent makes (GetObject), behind a small function type so the download
 * logic takes it as a parameter and the bench can drive the same code path.
 */
import { GetObjectCommand, type S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { S3_COMPATIBLE_ENDPOINT_SETTINGS } from '../core/s3/compatible-endpoint';
import { classifyS3Error } from '../core/s3/s3-errors';
import { DownloadError } from './errors';
import { AGENT_SETTINGS } from '../core/settings/agent';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export interface GetObjectInput {
  bucket: string;
  key: string;
  versionId?: string;
  /** First byte wanted (a Range request when > 0). */
  start?: number;
  /** Only if the object still has this ETag (S3 answers 412 otherwise). */
  ifMatch?: string;
}

export interface GetObjectResult {
  body: Readable;
  /** 206 for a range answer, 200 for the whole object. */
  status: number;
  contentLength?: number;
  /** Total object size, from Content-Range (range answers) or Content-Length. */
  totalSize?: number;
  /** First byte of the body within the object. */
  start: number;
  etag?: string;
}

export type ObjectSource = (input: GetObjectInput, signal?: AbortSignal) => Promise<GetObjectResult>;

export interface S3SourceOptions {
  region?: string;
  /** An S3-compatible or local endpoint instead of AWS's. */
  endpoint?: string;
  credentials?: AwsCredentials | (() => Promise<AwsCredentials>);
  requestHandler?: S3ClientConfig['requestHandler'];
}

/**
 * Client settings. For a non-AWS endpoint: the S3-compatible settings (path style, checksums
 * only when required) that S3-compatible servers (the sandbox's, MinIO) need.
 */
export function s3ClientConfig(options: S3SourceOptions): S3ClientConfig {
  const config: S3ClientConfig = { region: options.region ?? AGENT_SETTINGS.region.default, maxAttempts: 1 };
  if (options.credentials) config.credentials = options.credentials;
  if (options.requestHandler) config.requestHandler = options.requestHandler;
  if (options.endpoint) {
    Object.assign(config, { endpoint: options.endpoint, ...S3_COMPATIBLE_ENDPOINT_SETTINGS });
  }
  return config;
}

function where(input: GetObjectInput): string {
  return `s3://${input.bucket}/${input.key}${input.versionId ? `?versionId=${input.versionId}` : ''}`;
}

/** An SDK failure as a DownloadError, by the mapping the object Lambda uses too. */
export function toDownloadError(input: GetObjectInput, err: unknown): DownloadError {
  const { code, retryable, status, detail } = classifyS3Error(err);
  return new DownloadError(`${where(input)}: ${detail}`, { code, retryable, ...(status !== undefined ? { status } : {}), cause: err });
}

function parseContentRange(value: string | undefined): { start: number; total?: number } | undefined {
  const m = value ? /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(value) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), ...(m[2] !== '*' ? { total: Number(m[2]) } : {}) };
}

/** Node's codes for a connection closed under a request (the SDK names them TimeoutError). */
const CONNECTION_RESET = new Set(['ECONNRESET', 'EPIPE']);

/**
 * GetObject; a connection reset before any answer is tried once more at once. Servers close
 * kept-alive connections after an idle time (S3 after about 20 s, Node's servers 5 s), and one
 * closed just as it is reused fails the request before it reaches S3: not a reason for the
 * download's backoff (bench fleet: 23 of 1,000 devices waited it on the second upload).
 */
async function getObject(client: S3Client, input: GetObjectInput, signal?: AbortSignal) {
  const command = () =>
    new GetObjectCommand({
      Bucket: input.bucket,
      Key: input.key,
      ...(input.versionId ? { VersionId: input.versionId } : {}),
      ...(input.start ? { Range: `bytes=${input.start}-` } : {}),
      ...(input.ifMatch ? { IfMatch: input.ifMatch } : {}),
    });
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.send(command(), signal ? { abortSignal: signal } : {});
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (attempt === 1 && CONNECTION_RESET.has((err as { code?: string }).code ?? '')) continue;
      throw toDownloadError(input, err);
    }
  }
}

/** An ObjectSource over an S3 client. */
export function s3ObjectSource(client: S3Client): ObjectSource {
  return async (input, signal) => {
    const out = await getObject(client, input, signal);
    const status = out.$metadata.httpStatusCode ?? 200;
    const range = parseContentRange(out.ContentRange);
    const start = status === 206 && range ? range.start : 0;
    const total = range?.total ?? (status === 200 ? out.ContentLength : undefined);
    return {
      body: out.Body as Readable,
      status,
      start,
      ...(out.ContentLength !== undefined ? { contentLength: out.ContentLength } : {}),
      ...(total !== undefined ? { totalSize: total } : {}),
      ...(out.ETag ? { etag: out.ETag } : {}),
    };
  };
}
