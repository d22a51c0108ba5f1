/**
 * The plug relay: for each plug this hub drives, its named shadow `plug-<id>` on the hub's thing,
 * served over the agent's MQTT connection. A fresh `desired.power` is applied over the LAN and
 * answered in `reported.lastRequest`; a request older than the click age limit is `expired`, never
 * applied; one outside the contract `failed`, once. Every plug is polled so a press on the plug
 * shows in `reported`; an unreachable plug is `online: false` until a later poll reaches it. Each
 * plug has its own queue and connection, so one failing never holds up another.
 */
import { errorMessage, ShadowplugError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { isObject, own, type Json, type JsonObject } from '../core/shadow/json';
import { deviceSubscriptions, shadowTopics, type ShadowTopics } from '../core/shadow/topics';
import {
  desiredRequestId,
  isExpired,
  parseDesired,
  parseReported,
  plugShadowName,
  reportedJson,
  type LastRequest,
  type PlugReported,
} from '../core/plug-relay/contract';
import type { PlugConfig } from '../core/plug-relay/config';
import { RelayedPlug, type PlugClientOptions, type PlugReading } from './relayed-plug';
import { readMessage, type ShadowListener } from './shadow-capability';
import { SessionCache } from '../core/tplink/session-transport';
import { SerialQueue } from '../core/util/serial-queue';
import { DEFAULT_MAX_REQUEST_AGE_MS, DEFAULT_PLUG_POLL_MS } from '../core/settings/agent';

/** At most this many poll intervals skipped after wrong credentials (about 5 minutes at the default 10 s). */
const AUTH_BACKOFF_MAX_POLLS = 32;

/** What the relay needs of the agent's session. */
export interface ShadowLink {
  attach(listener: ShadowListener): void;
  publish(topic: string, body: string): boolean;
}

export interface Timers {
  every(ms: number, fn: () => void): { cancel(): void };
}

export const realTimers: Timers = {
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
};

export interface PlugRelayOptions {
  thingName: string;
  plugs: readonly PlugConfig[];
  link: ShadowLink;
  pollIntervalMs?: number;
  maxRequestAgeMs?: number;
  clock?: () => number;
  timers?: Timers;
  plugClient?: PlugClientOptions;
  logger?: Logger;
  /** Told of every answer, poll and outage (the agent's `plug` event). */
  onEvent?: (e: PlugEvent) => void;
}

export interface PlugEvent {
  plugId: string;
  kind: 'applied' | 'expired' | 'failed' | 'polled' | 'offline';
  requestId?: string;
  reported: PlugReported;
}

function errorFields(err: unknown): { code: string; message: string } {
  return { code: err instanceof ShadowplugError ? err.code : 'PLUG_ERROR', message: errorMessage(err) };
}

class PlugChannel implements ShadowListener {
  readonly topics: readonly string[];
  private readonly t: ShadowTopics;
  private readonly device: RelayedPlug;
  private readonly queue = new SerialQueue();
  /** What this agent last wrote (merged), to skip reports that change nothing. */
  private reported: PlugReported | undefined;
  /** The last request this agent answered (or saw answered in the shadow). */
  private handled: string | undefined;
  private closed = false;
  /** A poll is queued and not started yet: a slow plug gets no pile of polls behind it. */
  private pollQueued = false;
  /** Polls still to skip, and the current skip count, after the plug refused the credentials. */
  private authSkips = 0;
  private authBackoff = 0;

  constructor(
    readonly config: PlugConfig,
    private readonly o: Required<Pick<PlugRelayOptions, 'thingName' | 'link' | 'maxRequestAgeMs' | 'clock'>> & { logger: Logger; onEvent: (e: PlugEvent) => void },
    client: PlugClientOptions,
  ) {
    this.t = shadowTopics(o.thingName, plugShadowName(config.id));
    this.topics = deviceSubscriptions(this.t, ['deleteAccepted']);
    this.device = new RelayedPlug(config, client);
  }

  onConnected(): void {
    // Reported first (the shadow may be new), then the document for requests made meanwhile.
    this.poll(true);
    this.enqueue(() => Promise.resolve(void this.o.link.publish(this.t.get, '{}')));
  }

  onMessage(topic: string, payload: Buffer): void {
    const msg = readMessage(payload, topic, this.o.logger, 'plug shadow');
    if (!msg) return;
    if (topic === this.t.getAccepted) {
      const state = isObject(msg.state) ? msg.state : {};
      this.enqueue(() => this.onDocument(own(state, 'desired'), own(state, 'reported')));
    } else if (topic === this.t.updateDelta) {
      // Only a new request needs the whole document (a delta leaves out what equals reported).
      const state = isObject(msg.state) ? msg.state : {};
      const requestId = desiredRequestId(state);
      if (requestId !== undefined && requestId !== this.handled) this.o.link.publish(this.t.get, '{}');
    } else if (topic === this.t.getRejected) {
      // 404: no shadow (yet, or deleted): nothing is requested; the poll creates it with reported.
      if (msg.code !== 404) this.o.logger.warn('plug shadow get rejected', { plugId: this.config.id, code: msg.code, message: msg.message });
    } else if (topic === this.t.deleteAccepted) {
      // Someone deleted the shadow: write the plug's state again (a fresh document, nothing requested).
      this.o.logger.warn('plug shadow deleted; reporting again', { plugId: this.config.id });
      this.poll(true);
    } else if (topic === this.t.updateRejected) {
      this.o.logger.warn('plug shadow update rejected', { plugId: this.config.id, code: msg.code, message: msg.message });
    }
  }

  /** `fresh`: write reported even if unchanged (after a reconnect a report may have been lost). */
  poll(fresh = false): void {
    if (this.pollQueued && !fresh) return;
    if (this.authSkips > 0 && !fresh) {
      this.authSkips--;
      return;
    }
    this.pollQueued = true;
    this.enqueue(async () => {
      this.pollQueued = false;
      if (fresh) this.reported = undefined;
      try {
        const reading = await this.device.read();
        this.authBackoff = 0;
        this.report('polled', reading);
      } catch (err) {
        this.noteAuthFailure(err);
        this.reportOffline(err);
      }
    });
  }

  /**
   * A plug that refuses the credentials is polled less often (1, 2, 4 … AUTH_BACKOFF_MAX_POLLS
   * intervals skipped): the same credentials fail the same way, and Tapo firmware may lock out an
   * account after many failed logins. A request is still tried at once.
   */
  private noteAuthFailure(err: unknown): void {
    if (!(err instanceof ShadowplugError) || err.code !== 'TPLINK_AUTH') return;
    this.authBackoff = Math.min(AUTH_BACKOFF_MAX_POLLS, this.authBackoff === 0 ? 1 : this.authBackoff * 2);
    this.authSkips = this.authBackoff;
  }

  private enqueue(work: () => Promise<void>): void {
    void this.queue.run(async () => {
      if (this.closed) return;
      await work().catch((err: unknown) => this.o.logger.error('plug work failed', { plugId: this.config.id, err }));
    });
  }

  private async onDocument(desiredJson: Json | undefined, reportedJson: Json | undefined): Promise<void> {
    const last = parseReported(reportedJson).lastRequest;
    const requestId = desiredRequestId(desiredJson);
    if (requestId === undefined || requestId === last?.requestId || requestId === this.handled) {
      if (last) this.handled = last.requestId;
      return;
    }
    this.handled = requestId;
    const name = plugShadowName(this.config.id);
    const desired = parseDesired(name, desiredJson);
    const log = this.o.logger.child({ plugId: this.config.id, requestId });
    if (desired === undefined) return;
    if (desired instanceof Error) {
      log.warn('plug request refused', { err: desired });
      this.answer({ requestId, outcome: 'failed', error: errorFields(desired) });
      return;
    }
    const now = this.o.clock();
    if (isExpired(desired, now, this.o.maxRequestAgeMs)) {
      const ageMs = now - desired.requestedAt;
      const age = ageMs < 0 ? `dated ${Math.round(-ageMs / 1000)} s in the future` : `${Math.round(ageMs / 1000)} s old`;
      // Hours off is a clock, not a slow delivery.
      const clock = Math.abs(ageMs) >= 3_600_000 ? "; check the hub's clock" : '';
      const why = `${name}: request ${requestId} is ${age}, over the ${this.o.maxRequestAgeMs / 1000} s limit; not applied${clock}`;
      const err = new ShadowplugError(why, { code: 'PLUG_REQUEST_EXPIRED', retryable: false });
      log.warn('plug request expired', { err });
      this.answer({ requestId, outcome: 'expired', error: errorFields(err) });
      return;
    }
    try {
      const reading = await this.device.switch(desired.power);
      this.authBackoff = 0;
      this.authSkips = 0;
      log.info('plug switched', { power: reading.power });
      this.report('applied', reading, { requestId, outcome: reading.power === desired.power ? 'applied' : 'failed' });
    } catch (err) {
      log.warn('plug switch failed', { err });
      this.noteAuthFailure(err);
      this.reportOffline(err, { requestId, outcome: 'failed', error: errorFields(err) });
    }
  }

  private answer(lastRequest: LastRequest): void {
    this.write({ ...(this.reported ?? {}), lastRequest } as PlugReported, lastRequest.outcome === 'expired' ? 'expired' : 'failed', lastRequest.requestId);
  }

  private report(kind: PlugEvent['kind'], reading: PlugReading, lastRequest?: LastRequest): void {
    const next: PlugReported = { ...this.reported, online: true, power: reading.power, model: reading.model, alias: reading.alias };
    delete next.error;
    if (reading.energy) next.energy = reading.energy;
    if (lastRequest) next.lastRequest = lastRequest;
    this.write(next, lastRequest?.outcome === 'failed' ? 'failed' : kind, lastRequest?.requestId);
  }

  private reportOffline(err: unknown, lastRequest?: LastRequest): void {
    const next: PlugReported = { ...this.reported, online: false, error: errorFields(err) };
    if (lastRequest) next.lastRequest = lastRequest;
    if (!lastRequest && this.reported?.online !== false) this.o.logger.warn('plug unreachable', { plugId: this.config.id, err });
    this.write(next, lastRequest ? 'failed' : 'offline', lastRequest?.requestId);
  }

  private write(next: PlugReported, kind: PlugEvent['kind'], requestId: string | undefined): void {
    const changed = JSON.stringify(next) !== JSON.stringify(this.reported);
    if (changed) {
      // `energy: null` first clears readings a meter no longer gives; `error: null` an old error.
      const body: JsonObject = { ...reportedJson(next) };
      if (next.error === undefined && this.reported?.error !== undefined) body.error = null;
      // The shadow merges lastRequest key by key: an answer without an error must remove an older one.
      if (next.lastRequest && next.lastRequest.error === undefined && isObject(body.lastRequest)) body.lastRequest = { ...body.lastRequest, error: null };
      if (this.o.link.publish(this.t.update, JSON.stringify({ state: { reported: body } }))) this.reported = next;
    }
    if (changed || kind !== 'polled') this.o.onEvent({ plugId: this.config.id, kind, ...(requestId ? { requestId } : {}), reported: next });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue.idle();
  }
}

export class PlugRelay {
  private readonly channels: PlugChannel[];
  private readonly sessions: SessionCache;
  private poller: { cancel(): void } | undefined;

  constructor(private readonly options: PlugRelayOptions) {
    const logger = (options.logger ?? silentLogger).child({ component: 'plug-relay' });
    const base = {
      thingName: options.thingName,
      link: options.link,
      maxRequestAgeMs: options.maxRequestAgeMs ?? DEFAULT_MAX_REQUEST_AGE_MS,
      clock: options.clock ?? Date.now,
      logger,
      onEvent: options.onEvent ?? (() => undefined),
    };
    // KLAP/AES sessions live as long as the relay (a poll reuses the last one: two round trips).
    this.sessions = options.plugClient?.sessions ?? new SessionCache();
    const client: PlugClientOptions = { now: options.clock, ...options.plugClient, sessions: this.sessions, logger: options.plugClient?.logger ?? logger };
    this.channels = options.plugs.map((p) => new PlugChannel(p, base, client));
    for (const c of this.channels) options.link.attach(c);
  }

  /** Poll every interval (and at every connect, see PlugChannel.onConnected). */
  start(): void {
    this.poller = (this.options.timers ?? realTimers).every(this.options.pollIntervalMs ?? DEFAULT_PLUG_POLL_MS, () => {
      for (const c of this.channels) c.poll();
    });
  }

  async close(): Promise<void> {
    this.poller?.cancel();
    await Promise.all(this.channels.map((c) => c.close()));
    this.sessions.clear();
  }
}
