/**
 * The device agent: one shadow session, one capability per shadow property (file sync on
 * `desired.<shadowProperty>` today), credentials and S3 access. `startAgent` is cheap and touches
 * no process-wide state (no signal handlers, no exit), so many agents can run in one process.
 */
import { EventEmitter } from 'node:events';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { silentLogger, type Logger } from '../core/logger';
import { SHADOWPLUG_VERSION } from '../core/version';
import { agentInfo, AgentInfoCapability } from './agent-info';
import { checkAgentOptions, type OptionalSetting } from './options';
import { trustedKeys, type TrustedKey } from '../core/release/trust';
import { AGENT_SETTINGS, type AgentSettingName } from '../core/settings/agent';
import type { Codec } from '../core/settings/schema';
import { IotCredentialsProvider } from './credentials';
import { AgentConfigError, AgentError } from './errors';
import { FileSyncCapability, type OpenedSource, type SyncOutcome } from './file-sync';
import { HookRunner } from './hook';
import { s3ClientConfig, s3ObjectSource } from './s3-source';
import { S3ClientPerCredentials } from './s3-clients';
import { ShadowSession } from './shadow-session';
import { PlugRelay, type PlugEvent, type Timers } from './plug-relay';
import { plugsOfHub } from '../core/plug-relay/config';
import { StateStore } from './state-store';
import { nodeFs, probeWritable, type AgentFs } from './agent-fs';
import { JobJournal, type JobOutcome } from './job-journal';
import { JobRunner } from './job-runner';
import { PLUG_DETECTION_FILE, PlugDetectionStore } from './plug-detection-store';
import type { Credentials } from '../core/tplink/klap-crypto';

type SettingValue<K extends AgentSettingName> = (typeof AGENT_SETTINGS)[K] extends Codec<infer T> ? T : never;

/**
 * The agent's options in code: the settings' values as core/settings/agent.ts declares them
 * (`endpoint` is its host; its port is `port`), and tuning that has no flag.
 */
export type AgentOptions = { [K in 'cert' | 'key' | 'thingName' | 'dest']: SettingValue<K> } & { [K in OptionalSetting]?: SettingValue<K> } & {
  endpoint: string;
  logger?: Logger;
  /** Epoch ms; default Date.now (credentials expiry, installedAt). */
  clock?: () => number;
  /** Download retry backoff (default 2 s doubling to 5 min). */
  retry?: { initialMs: number; maxMs: number };
  /** MQTT reconnect backoff (default 1 s doubling to 60 s). */
  reconnect?: { initialMs: number; maxMs: number };
  /** Shadow request timeout (default 10 s). */
  requestTimeoutMs?: number;
  credentialsRefreshMarginMs?: number;
  progressIntervalMs?: number;
  /** A download connection silent this long counts as cut and is resumed (default 60 s). */
  downloadIdleTimeoutMs?: number;
  /** Plug connect/request timeouts (the TP-Link client's defaults otherwise). */
  plugTimeouts?: { connectTimeoutMs?: number; requestTimeoutMs?: number };
  /** The TP-Link account for KLAP and AES plugs (never logged; the default credentials are tried after it). */
  tplinkCredentials?: Credentials;
  /** Poll scheduling, replaceable in tests. */
  timers?: Timers;
  /** Job download retries (default 5 attempts, 2 s doubling). */
  jobRetry?: { initialMs: number; maxMs: number; attempts: number };
  /** The file system for downloads and state (default node:fs/promises; tests make it fail). */
  fs?: AgentFs;
};

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

export class Agent extends EventEmitter<AgentEvents> {
  /** @internal */
  constructor(
    private readonly session: ShadowSession,
    private readonly capability: FileSyncCapability,
    private readonly s3: S3Access,
    private readonly plugRelay?: PlugRelay,
    private readonly plugDetection?: PlugDetectionStore,
    private readonly jobs?: JobRunner,
  ) {
    super();
    capability.onIdle(() => this.checkIdle());
    session.on('quiet', () => this.checkIdle());
  }

  /** Credentials fetches so far (0 without a credentials endpoint). */
  get credentialFetches(): number {
    return this.s3.credentials?.fetches ?? 0;
  }

  get online(): boolean {
    return this.session.online;
  }

  /**
   * Nothing to do: online, the last shadow document seen handled (every delta and accepted update
   * reconciled), no download running or waiting to retry, no `--on-update` hook running, and no
   * report or `get` awaiting the shadow's answer. Only a new message from the shadow (or a lost
   * connection) starts work again, so a test or a supervisor can wait for this instead of
   * waiting a while. Plug polling (its own timer) is not part of it.
   */
  get idle(): boolean {
    return this.session.quiet && this.capability.idle && (this.jobs?.idle ?? true);
  }

  /** Version of the last shadow document seen (undefined before the first). */
  get shadowVersion(): number | undefined {
    return this.session.version;
  }

  /** Emits `idle` once per spell of idleness (work started since the last one). */
  private checkIdle(): void {
    if (!this.idle) return;
    const mark = this.session.activity + this.capability.activity;
    if (mark === this.idleMark) return;
    this.idleMark = mark;
    this.emit('idle', { version: this.session.version ?? 0 });
  }
  private idleMark = -1;

  /** Connect (startAgent does this; it is separate so listeners can be attached first). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.session.start();
    this.plugRelay?.start();
    // S3 credentials and their client now (again after a failure) rather than when the first file
    // arrives: a fleet's devices then answer an upload without a thousand TLS handshakes to the
    // credentials provider at once. A permanent failure is logged by the fetch that needs them.
    this.warmed = this.s3.warm(this.stopping.signal);
  }
  private started = false;
  private warmed: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  /** Resolves once the agent has its first credentials, they failed for good, or it closed (at once without a credentials endpoint). */
  credentialsWarmed(): Promise<void> {
    return this.warmed ?? Promise.resolve();
  }

  /** Stop: an unfinished download keeps its partial file for the next start; hooks under way finish. */
  async close(): Promise<void> {
    this.stopping.abort();
    await this.capability.close();
    await this.jobs?.close();
    await this.plugRelay?.close();
    await this.plugDetection?.flush();
    await this.session.close();
    this.s3.close();
  }
}

async function readPem(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new AgentConfigError(`cannot read ${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * A read-only `--dest` or `--state-dir` found at start, not after a whole download that cannot be
 * recorded (and would be downloaded again on every start).
 */
async function refuseUnwritable(fs: AgentFs, dest: string, stateDir: string): Promise<void> {
  for (const [dir, flag, code] of [
    [dest, '--dest', 'DEST_NOT_WRITABLE'],
    [stateDir, '--state-dir', 'STATE_DIR_NOT_WRITABLE'],
  ] as const) {
    const err = await probeWritable(fs, dir);
    if (err) throw new AgentConfigError(`${flag} ${dir} is not writable: ${err.message}`, { code, cause: err });
  }
}

async function loadTrustedKeys(paths: readonly string[]): Promise<TrustedKey[]> {
  const pems = await Promise.all(paths.map((p) => readPem(p, 'trusted key')));
  try {
    return trustedKeys(pems.map((pem) => pem.toString('utf8')));
  } catch (err) {
    throw new AgentConfigError(`--trusted-key: ${(err as Error).message}`, { cause: err });
  }
}

interface DeviceIdentity {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

interface S3Access {
  credentials?: IotCredentialsProvider;
  openSource: () => Promise<OpenedSource>;
  /** Fetches the credentials and makes their client, retrying until it has them (see IotCredentialsProvider.warm). */
  warm: (signal: AbortSignal) => Promise<void>;
  close: () => void;
}

/**
 * S3 access: credentials from the IoT credentials provider (a client per set of credentials, so
 * a refresh takes effect), or the SDK's default chain with one long-lived client.
 */
function s3Access(options: AgentOptions, identity: DeviceIdentity, clock: () => number): S3Access {
  const clientOptions = { ...(options.region ? { region: options.region } : {}), ...(options.s3Endpoint ? { endpoint: options.s3Endpoint } : {}) };
  if (!options.credentialEndpoint) {
    const shared = new S3Client(s3ClientConfig(clientOptions));
    const source = s3ObjectSource(shared);
    return { openSource: () => Promise.resolve({ source, close: () => undefined }), warm: () => Promise.resolve(), close: () => shared.destroy() };
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
  return { credentials, openSource: () => clients.open(), warm, close: () => clients.close() };
}

async function readIdentity(options: AgentOptions): Promise<DeviceIdentity> {
  const [cert, key, ca] = await Promise.all([
    readPem(options.cert, 'certificate'),
    readPem(options.key, 'private key'),
    options.caFile ? readPem(options.caFile, 'CA file') : Promise.resolve(undefined),
  ]);
  return { cert, key, ...(ca ? { ca } : {}) };
}

async function makeDest(path: string): Promise<string> {
  const dest = resolve(path);
  try {
    await mkdir(dest, { recursive: true });
  } catch (err) {
    throw new AgentConfigError(`cannot create destination directory ${dest}: ${(err as Error).message}`, { cause: err });
  }
  return dest;
}

/** The plug relay, when some plug's hub is this thing (not in `--once`). */
async function plugRelayOf(options: AgentOptions, session: ShadowSession, stateDir: string, clock: () => number, logger: Logger): Promise<{ relay?: PlugRelay; detection?: PlugDetectionStore }> {
  const plugs = plugsOfHub(options.plugs ?? [], options.thingName);
  if (plugs.length === 0) return {};
  const detection = await PlugDetectionStore.open(join(stateDir, PLUG_DETECTION_FILE), logger.child({ component: 'plug-relay' }));
  const relay = new PlugRelay({
    thingName: options.thingName,
    plugs,
    link: session,
    clock,
    logger,
    ...(options.plugPollMs !== undefined ? { pollIntervalMs: options.plugPollMs } : {}),
    ...(options.maxRequestAgeMs !== undefined ? { maxRequestAgeMs: options.maxRequestAgeMs } : {}),
    ...(options.timers ? { timers: options.timers } : {}),
    plugClient: { ...options.plugTimeouts, detection, ...(options.tplinkCredentials ? { credentials: options.tplinkCredentials } : {}) },
  });
  return { relay, detection };
}

/** The agent's events from its parts: installs, progress and jobs from `events`, the session's state, errors when listened to. */
function forwardEvents(agent: Agent, parts: { events: EventEmitter; session: ShadowSession; capability: FileSyncCapability; relay?: PlugRelay }): void {
  parts.relay?.onEvent((e) => agent.emit('plug', e));
  for (const name of ['installed', 'progress', 'job'] as const) parts.events.on(name, (e) => agent.emit(name, e));
  const forwardError = (err: AgentError): void => {
    if (agent.listenerCount('error') > 0) agent.emit('error', err);
  };
  parts.events.on('error', forwardError);
  parts.session.on('error', forwardError);
  parts.capability.onSettled((o) => agent.emit('settled', o));
  parts.session.on('connected', () => agent.emit('connected'));
  parts.session.on('offline', () => agent.emit('offline'));
}

async function build(given: AgentOptions, once: boolean): Promise<Agent> {
  const options = checkAgentOptions(given);
  const logger = (options.logger ?? silentLogger).child({ thing: options.thingName });
  const identity = await readIdentity(options);
  const dest = await makeDest(options.dest);
  const fs = options.fs ?? nodeFs;
  const store = await StateStore.open(resolve(options.stateDir ?? join(dest, '.shadowplug-state')), fs);
  await refuseUnwritable(fs, dest, store.dir);
  const clock = options.clock ?? Date.now;
  const trusted = await loadTrustedKeys(options.trustedKey ?? []);
  if (trusted.length === 0) logger.warn('no --trusted-key: files are installed unsigned, so whoever can write to the bucket or the shadow chooses what this device installs, older versions included');
  else logger.info('installing signed releases only', { trustedKeys: trusted.map((t) => t.keyId) });
  const s3 = s3Access(options, identity, clock);
  const { credentials, openSource } = s3;
  const session = new ShadowSession({
    host: options.endpoint,
    port: options.port,
    ...identity,
    clientId: options.clientId ?? options.thingName,
    thingName: options.thingName,
    ...(options.shadowName ? { shadowName: options.shadowName } : {}),
    logger: logger.child({ component: 'shadow' }),
    ...(options.reconnect ? { reconnect: options.reconnect } : {}),
    ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    clock,
  });
  const events = new EventEmitter();
  const hook = () => (options.onUpdate ? { hook: new HookRunner(options.onUpdate, logger.child({ component: 'on-update' })) } : {});
  const onAccessDenied = () => credentials?.invalidate();
  const idleTimeout = options.downloadIdleTimeoutMs !== undefined ? { idleTimeoutMs: options.downloadIdleTimeoutMs } : {};
  const progress = options.progressIntervalMs !== undefined ? { progressIntervalMs: options.progressIntervalMs } : {};
  const capability = new FileSyncCapability({
    property: options.shadowProperty,
    thingName: options.thingName,
    dest,
    maxSize: options.maxSize,
    store,
    trusted,
    reporter: session,
    openSource,
    onAccessDenied,
    ...hook(),
    events,
    logger: logger.child({ component: 'file-sync' }),
    clock,
    once,
    ...(options.retry ? { retry: options.retry } : {}),
    ...progress,
    ...idleTimeout,
    ...(options.fs ? { fs: options.fs } : {}),
  });
  session.addCapability(capability);
  const info = agentInfo({ version: SHADOWPLUG_VERSION, node: process.version, platform: process.platform, arch: process.arch, startedAt: new Date(clock()) });
  session.addCapability(new AgentInfoCapability(info, session, logger.child({ component: 'agent-info' })));
  const { relay, detection } = once ? {} : await plugRelayOf(options, session, store.dir, clock, logger);
  const jobs = options.jobs
    ? new JobRunner({
        thingName: options.thingName,
        dest,
        install: { property: options.shadowProperty, maxSize: options.maxSize, store, trusted, openSource, events, clock, onAccessDenied, ...idleTimeout },
        journal: await JobJournal.open(store.dir),
        link: session,
        reporter: session,
        ...hook(),
        logger,
        ...(options.jobRetry ? { retry: options.jobRetry } : {}),
        ...progress,
        onOutcome: (jobId, outcome) => events.emit('job', { jobId, ...outcome }),
      })
    : undefined;
  if (jobs) session.attach(jobs);
  const agent = new Agent(session, capability, s3, relay, detection, jobs);
  forwardEvents(agent, { events, session, capability, ...(relay ? { relay } : {}) });
  return agent;
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
