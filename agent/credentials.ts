/**
 * Temporary AWS credentials from the AWS IoT credentials provider: `GET
 * https://<endpoint>/role-aliases/<alias>/credentials` over mutual TLS with the device certificate
 * and `x-amzn-iot-thingname`. Cached until shortly before `expiration`; `invalidate()` (after an S3
 * 403) makes the next `get()` fetch anew.
 */
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { Backoff, DOWNLOAD_RETRY, sleep } from './backoff';
import { AgentError } from './errors';
import type { AwsCredentials } from './s3-source';

export interface CredentialsEndpoint {
  host: string;
  port: number;
  path: string;
}

/** `host[:port]/role-aliases/<alias>/credentials`, with or without `https://` (the seed's format). */
export function parseCredentialEndpoint(value: string): CredentialsEndpoint {
  const withScheme = /^[a-z]+:\/\//i.test(value) ? value : `https://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw credentialsError(`credential endpoint ${JSON.stringify(value)} is not host[:port]/role-aliases/<alias>/credentials`, { retryable: false });
  }
  if (url.protocol !== 'https:') throw credentialsError(`credential endpoint ${JSON.stringify(value)} must use https`, { retryable: false });
  if (!/^\/role-aliases\/[^/]+\/credentials$/.test(url.pathname)) {
    throw credentialsError(`credential endpoint ${JSON.stringify(value)} must end in /role-aliases/<alias>/credentials`, { retryable: false });
  }
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : 443, path: url.pathname };
}

export interface IotCredentialsOptions {
  endpoint: string;
  thingName: string;
  cert: string | Buffer;
  key: string | Buffer;
  /** Trust these CAs instead of the system's (the sandbox's CA). */
  ca?: string | Buffer;
  /** Epoch milliseconds; default Date.now. */
  clock?: () => number;
  /** Refresh this long before expiration (capped at a quarter of the lifetime). Default 5 minutes. */
  refreshMarginMs?: number;
  timeoutMs?: number;
  /** Backoff between the attempts of `warm()` (default 2 s doubling to 5 min, as the downloads'). */
  warmRetry?: { initialMs: number; maxMs: number };
}

interface Cached {
  credentials: AwsCredentials;
  refreshAt: number;
}

export class IotCredentialsProvider {
  private readonly endpoint: CredentialsEndpoint;
  private readonly clock: () => number;
  private cached: Cached | undefined;
  private inflight: Promise<AwsCredentials> | undefined;
  /** How many times credentials were fetched (observability, tests). */
  fetches = 0;

  constructor(private readonly options: IotCredentialsOptions) {
    this.endpoint = parseCredentialEndpoint(options.endpoint);
    this.clock = options.clock ?? Date.now;
  }

  /** Cached credentials, or fresh ones when none are cached or they are about to expire. */
  get(): Promise<AwsCredentials> {
    if (this.cached && this.clock() < this.cached.refreshAt) return Promise.resolve(this.cached.credentials);
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /**
   * Fetches until credentials are cached, with backoff between retryable failures: true then,
   * false at a permanent failure (403/404: a fix in the cloud) or when `signal` aborts. A fleet that
   * starts at once overloads the provider (TLS handshakes time out): one attempt at start would
   * leave those devices to fetch when the next file arrives, all at the same moment again.
   */
  async warm(signal: AbortSignal): Promise<boolean> {
    const backoff = new Backoff(this.options.warmRetry ?? DOWNLOAD_RETRY);
    for (;;) {
      try {
        await this.get();
        return true;
      } catch (err) {
        if (!(err instanceof AgentError) || !err.retryable) return false;
      }
      try {
        await sleep(backoff.next(), signal);
      } catch {
        return false;
      }
    }
  }

  /** Forget the cached credentials (S3 said 403: they may have been revoked or expired early). */
  invalidate(): void {
    this.cached = undefined;
  }

  private where(): string {
    return `https://${this.endpoint.host}:${this.endpoint.port}${this.endpoint.path}`;
  }

  private async fetch(): Promise<AwsCredentials> {
    this.fetches++;
    const fetchedAt = this.clock();
    const { status, body } = await this.request();
    if (status !== 200) {
      let message = body.slice(0, 200);
      try {
        message = (JSON.parse(body) as { message?: string }).message ?? message;
      } catch {
        // not JSON: keep the raw text
      }
      throw credentialsError(`credentials provider ${this.where()} answered ${status}: ${message}`, {
        status,
        // 5xx and throttling may pass; a 403/404 needs a fix in the cloud (policy, role alias).
        retryable: status >= 500 || status === 429,
      });
    }
    const credentials = this.parseReply(body);
    const expiration = credentials.expiration!;
    const lifetime = expiration.getTime() - fetchedAt;
    const margin = Math.min(this.options.refreshMarginMs ?? 5 * 60_000, Math.max(0, lifetime / 4));
    this.cached = { credentials, refreshAt: expiration.getTime() - margin };
    return credentials;
  }

  private parseReply(body: string): AwsCredentials {
    let creds: Record<string, unknown> | undefined;
    try {
      creds = (JSON.parse(body) as { credentials?: typeof creds }).credentials;
    } catch (err) {
      throw credentialsError(`credentials provider ${this.where()} sent invalid JSON`, { retryable: true, cause: err });
    }
    const { accessKeyId, secretAccessKey, sessionToken, expiration } = creds ?? {};
    if (typeof accessKeyId !== 'string' || typeof secretAccessKey !== 'string' || typeof expiration !== 'string') {
      throw credentialsError(`credentials provider ${this.where()} reply lacks credentials.accessKeyId/secretAccessKey/expiration`, { retryable: true });
    }
    const expires = new Date(expiration);
    if (Number.isNaN(expires.getTime())) throw credentialsError(`credentials provider ${this.where()} sent an invalid expiration ${JSON.stringify(expiration)}`, { retryable: true });
    return { accessKeyId, secretAccessKey, ...(typeof sessionToken === 'string' ? { sessionToken } : {}), expiration: expires };
  }

  private request(): Promise<{ status: number; body: string }> {
    const opts: RequestOptions = {
      host: this.endpoint.host,
      port: this.endpoint.port,
      path: this.endpoint.path,
      method: 'GET',
      cert: this.options.cert,
      key: this.options.key,
      ...(this.options.ca ? { ca: this.options.ca } : {}),
      headers: { 'x-amzn-iot-thingname': this.options.thingName, accept: 'application/json' },
      timeout: this.options.timeoutMs ?? 10_000,
      agent: false,
    };
    return new Promise((resolve, reject) => {
      const req = httpsRequest(opts, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          // A credentials reply is a few hundred bytes; do not buffer a runaway answer.
          if (size > 64 * 1024) req.destroy(new Error('reply larger than 64 KiB'));
          else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeout} ms`)));
      req.on('error', (err) => reject(credentialsError(`credentials provider ${this.where()} unreachable: ${err.message}`, { retryable: true, cause: err })));
      req.end();
    });
  }
}

/** The IoT credentials provider did not give us credentials. */
function credentialsError(message: string, options: { retryable: boolean; status?: number; cause?: unknown }): AgentError {
  return new AgentError(message, { code: 'CREDENTIALS', ...options });
}
