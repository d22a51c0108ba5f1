/**
 * The device agent: one shadow session, one capability per shadow property (file sync on
 * `desired.<shadowProperty>` today), credentials and S3 access. `startAgent` is cheap and touches
 * no process-wide state (no signal handlers, no exit), so many agents can run in one process.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { silentLogger, type Logger } from '../core/logger';
import { SHADOWPLUG_VERSION } from '../core/version';
import { agentInfo, AgentInfoCapability } from './agent-info';
import type { AgentOptions } from './options';
import { AGENT_SETTINGS } from '../core/settings/agent';
import { IotCredentialsProvider } from './credentials';
import { AgentConfigError, AgentError } from './errors';
import { prepareAgent, type DeviceIdentity } from './startup';
import { FileSyncCapability, type SyncOutcome } from './file-sync';
import type { OpenedSource } from './install-file';
import { HookRunner } from './hook';
import { s3ClientConfig, s3ObjectSource } from './s3-source';
import { S3ClientPerCredentials } from './s3-clients';
import { ShadowSession } from './shadow-session';
import { PlugRelay, type PlugEvent } from './plug-relay';
import { plugsOfHub } from '../core/plug-relay/config';
import { JobJournal, type JobOutcome } from './job-journal';
import { JobRunner } from './job-runner';
import { PLUG_DETECTION_FILE, PlugDetectionStore } from './plug-detection-store';

export type { AgentOptions };

export interface AgentEvents {
  installed: [{ property: string; url: string; hash: string; path: string; size: number; versionId?: string; resumedFrom: number }];
  progress: [{ property: string; url: string; bytes: number; total?: number }];
  error: [AgentError];
  connected: [];
  offline: [];
  settled: [SyncOutcome];
  /** Nothing left to do for the shadow document it has seen (see `Agent.idle`); once per spell. */
  idle: [{ version: number }];
  plug: [PlugEvent];
  /** A job's outcome was sent to IoT Jobs (roll-out mode). */
  job: [{ jobId: string } & JobOutcome];
}

interface AgentParts {
  session: ShadowSession;
  capability: FileSyncCapability;
  /** Where the parts send `installed`, `progress`, `settled`, `job`, `plug`, `error` and `quiet`. */
  events: EventEmitter;
  credentials?: IotCredentialsProvider;
  /** Fetches the credentials and makes their S3 client, retrying until it has them (see IotCredentialsProvider.warm). */
  warm: (signal: AbortSignal) => Promise<void>;
  closeClients: () => void;
  relay?: PlugRelay;
  detection?: PlugDetectionStore;
  jobs?: JobRunner;
}

export class Agent extends EventEmitter<AgentEvents> {
  private started = false;
  private warmed: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private idleMark = -1;

  /** @internal */
  constructor(private readonly parts: AgentParts) {
    super();
    const { session, events } = parts;
    events.on('quiet', () => this.checkIdle());
    session.on('quiet', () => this.checkIdle());
    for (const name of ['installed', 'progress', 'job', 'settled', 'plug'] as const) events.on(name, (e) => this.emit(name, e));
    const forwardError = (err: AgentError): void => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    };
    events.on('error', forwardError);
    session.on('error', forwardError);
    session.on('connected', () => this.emit('connected'));
    session.on('offline', () => this.emit('offline'));
  }

  /** Credentials fetches so far (0 without a credentials endpoint). */
  get credentialFetches(): number {
    return this.parts.credentials?.fetches ?? 0;
  }

  get online(): boolean {
    return this.parts.session.online;
  }

  /**
   * Nothing to do: online, the last shadow document handled, no download running or waiting to
   * retry, no hook running, no report or `get` unanswered. Only a new shadow message (or a lost
   * connection) starts work again, so a test or a supervisor can wait for this. Plug polling is not part of it.
   */
  get idle(): boolean {
    return this.parts.session.quiet && this.parts.capability.idle && (this.parts.jobs?.idle ?? true);
  }

  /** Version of the last shadow document seen (undefined before the first). */
  get shadowVersion(): number | undefined {
    return this.parts.session.version;
  }

  /** Emits `idle` once per spell of idleness (work started since the last one). */
  private checkIdle(): void {
    if (!this.idle) return;
    const mark = this.parts.session.activity + this.parts.capability.activity;
    if (mark === this.idleMark) return;
    this.idleMark = mark;
    this.emit('idle', { version: this.parts.session.version ?? 0 });
  }

  /** Connect (startAgent does this; it is separate so listeners can be attached first). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.parts.session.start();
    this.parts.relay?.start();
    // Credentials and their S3 client now (again after a failure), not at the first file: a fleet then
    // answers an upload without a thousand TLS handshakes to the credentials provider at once. A
    // permanent failure is logged by the fetch that needs them.
    this.warmed = this.parts.warm(this.stopping.signal);
  }

  /** Resolves once the agent has its first credentials, they failed for good, or it closed (at once without a credentials endpoint). */
  credentialsWarmed(): Promise<void> {
    return this.warmed ?? Promise.resolve();
  }

  /** Stop: an unfinished download keeps its partial file for the next start; hooks under way finish. */
  async close(): Promise<void> {
    const { capability, jobs, relay, detection, session } = this.parts;
    this.stopping.abort();
    await capability.close();
    await jobs?.close();
    await relay?.close();
    await detection?.flush();
    await session.close();
    this.parts.closeClients();
  }
}

/**
 * S3 access: credentials from the IoT credentials provider (a client per set of credentials, so
 * a refresh takes effect), or the SDK's default chain with one long-lived client.
 */
function s3Access(options: AgentOptions, identity: DeviceIdentity, clock: () => number): Pick<AgentParts, 'credentials' | 'warm' | 'closeClients'> & { openSource: () => Promise<OpenedSource> } {
  const clientOptions = { ...(options.region ? { region: options.region } : {}), ...(options.s3Endpoint ? { endpoint: options.s3Endpoint } : {}), ...(options.s3RequestHandler ? { requestHandler: options.s3RequestHandler } : {}) };
  if (!options.credentialEndpoint) {
    const shared = new S3Client(s3ClientConfig(clientOptions));
    const source = s3ObjectSource(shared);
    return { openSource: () => Promise.resolve({ source, close: () => undefined }), warm: () => Promise.resolve(), closeClients: () => shared.destroy() };
  }
  let credentials: IotCredentialsProvider;
  try {
    credentials = new IotCredentialsProvider({
      endpoint: options.credentialEndpoint,
      thingName: options.thingName,
      ...identity,
      clock,
      ...(options.credentialsRefreshMarginMs !== undefined ? { refreshMarginMs: options.credentialsRefreshMarginMs } : {}),
      ...(options.retry ? { warmRetry: options.retry } : {}),
    });
  } catch (err) {
    throw new AgentConfigError((err as Error).message, { cause: err });
  }
  const clients = new S3ClientPerCredentials(() => credentials.get(), (c) => s3ClientConfig({ ...clientOptions, credentials: c }));
  const warm = async (signal: AbortSignal) => {
    // The client made here stays (the current one until the credentials change); a failure shows at the first download.
    if ((await credentials.warm(signal)) && !signal.aborted) await clients.open().then((o) => o.close(), () => undefined);
  };
  return { credentials, openSource: () => clients.open(), warm, closeClients: () => clients.close() };
}

/** The plug relay, when some plug's hub is this thing (not in `--once`). */
async function plugRelayOf(options: AgentOptions, session: ShadowSession, stateDir: string, clock: () => number, logger: Logger, events: EventEmitter): Promise<{ relay?: PlugRelay; detection?: PlugDetectionStore }> {
  const plugs = plugsOfHub(options.plugs ?? [], options.thingName);
  if (plugs.length === 0) return {};
  const detection = await PlugDetectionStore.open(join(stateDir, PLUG_DETECTION_FILE), logger.child({ component: 'plug-relay' }));
  const relay = new PlugRelay({
    thingName: options.thingName,
    plugs,
    link: session,
    clock,
    logger,
    pollIntervalMs: options.plugPollMs,
    maxRequestAgeMs: options.maxRequestAgeMs,
    timers: options.timers,
    onEvent: (e) => events.emit('plug', e),
    plugClient: { ...options.plugTimeouts, detection, credentials: options.tplinkCredentials },
  });
  return { relay, detection };
}

async function build(given: AgentOptions, once: boolean): Promise<Agent> {
  const { options, logger, identity, dest, store, trusted, clock } = await prepareAgent(given);
  const { credentials, openSource, warm, closeClients } = s3Access(options, identity, clock);
  const session = new ShadowSession({
    host: options.endpoint,
    port: options.port,
    ...identity,
    clientId: options.clientId ?? options.thingName,
    thingName: options.thingName,
    shadowName: options.shadowName,
    logger: logger.child({ component: 'shadow' }),
    reconnect: options.reconnect,
    requestTimeoutMs: options.requestTimeoutMs,
    clock,
  });
  const events = new EventEmitter();
  const hook = () => (options.onUpdate ? new HookRunner(options.onUpdate, logger.child({ component: 'on-update' })) : undefined);
  const install = {
    property: options.shadowProperty,
    maxSize: options.maxSize,
    store,
    trusted,
    openSource,
    events,
    clock,
    onAccessDenied: () => credentials?.invalidate(),
    idleTimeoutMs: options.downloadIdleTimeoutMs,
    fs: options.fs,
  };
  const capability = new FileSyncCapability({
    install,
    thingName: options.thingName,
    dest,
    reporter: session,
    hook: hook(),
    logger: logger.child({ component: 'file-sync' }),
    once,
    retry: options.retry,
    progressIntervalMs: options.progressIntervalMs,
  });
  session.addCapability(capability);
  const info = agentInfo({ version: SHADOWPLUG_VERSION, node: process.version, platform: process.platform, arch: process.arch, startedAt: new Date(clock()) });
  session.addCapability(new AgentInfoCapability(info, session, logger.child({ component: 'agent-info' })));
  const { relay, detection } = once ? {} : await plugRelayOf(options, session, store.dir, clock, logger, events);
  const jobs = options.jobs
    ? new JobRunner({
        thingName: options.thingName,
        dest,
        install,
        journal: await JobJournal.open(store.dir),
        link: session,
        reporter: session,
        hook: hook(),
        logger,
        retry: options.jobRetry,
        progressIntervalMs: options.progressIntervalMs,
        onOutcome: (jobId, outcome) => events.emit('job', { jobId, ...outcome }),
      })
    : undefined;
  if (jobs) session.attach(jobs);
  return new Agent({ session, capability, events, credentials, warm, closeClients, relay, detection, jobs });
}

/** Start an agent that keeps the shadow's file installed until `close()`. */
export async function startAgent(options: AgentOptions): Promise<Agent> {
  const agent = await build(options, false);
  agent.start();
  return agent;
}

export interface SyncOnceOptions extends AgentOptions {
  /** Give up when the shadow cannot be read within this time (default 60 s). */
  shadowTimeoutMs?: number;
  /** Called with the agent before it connects (to attach progress output, say). */
  onAgent?: (agent: Agent) => void;
}

/**
 * Read the shadow, install the desired file if needed, report, and stop.
 * Exit status: 0 in sync (or nothing wanted), 1 failed (the error is reported in the shadow when possible).
 */
export async function syncOnce(options: SyncOnceOptions): Promise<number> {
  const logger = options.logger ?? silentLogger;
  const agent = await build(options, true);
  options.onAgent?.(agent);
  let timer: NodeJS.Timeout | undefined;
  try {
    const outcome = await new Promise<SyncOutcome>((resolve) => {
      let reached = false;
      agent.once('settled', resolve);
      agent.once('connected', () => (reached = true));
      timer = setTimeout(() => {
        if (!reached) {
          resolve({ status: 'failed', error: new AgentError(`could not reach the shadow at ${options.endpoint}:${options.port ?? AGENT_SETTINGS.port.default} within ${options.shadowTimeoutMs ?? 60_000} ms`, { code: 'SHADOW_UNREACHABLE', retryable: true }) });
        }
      }, options.shadowTimeoutMs ?? 60_000);
      agent.start();
    });
    if (outcome.status === 'in-sync') {
      logger.info('in sync', outcome.installed ? { path: outcome.installed.path, hash: outcome.installed.hash } : { installed: 'nothing' });
      return 0;
    }
    logger.error('sync failed', { code: outcome.error.code, err: outcome.error.message });
    return 1;
  } finally {
    clearTimeout(timer);
    await agent.close();
  }
}
