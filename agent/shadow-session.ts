/**
 * One device's Device Shadow session over its MQTT connection. Each capability owns one property
 * and is told when it may have changed. The mirror of the document moves one version at a time; a gap
 * or a delta that cannot be merged with certainty triggers a fresh `get`. On every connect the
 * replies are subscribed before the empty `get` is published (as AWS requires).
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { deviceSubscriptions, shadowTopics, type ShadowTopics } from '../core/shadow/topics';
import { silentLogger, type Logger } from '../core/logger';
import { Backoff } from './backoff';
import { AgentError } from './errors';
import { isObject, own, put, type Json, type JsonObject } from '../core/shadow/json';
import { readMessage, type ShadowCapability, type ShadowListener } from './shadow-capability';
import { applyUpdate, mergeDelta, mirrorFromDocument, type ShadowMirror } from './shadow-state';
import { DEFAULT_RECONNECT, DEFAULT_REQUEST_TIMEOUT_MS, MqttConnection, type MqttConnectionOptions } from './mqtt-connection';

export type ShadowSessionOptions = MqttConnectionOptions & { thingName: string; shadowName?: string };

interface Pending {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class ShadowSession extends EventEmitter {
  private readonly topics: ShadowTopics;
  private readonly logger: Logger;
  private readonly requestTimeoutMs: number;
  private readonly connection: MqttConnection;
  private readonly capabilities = new Map<string, ShadowCapability>();
  private readonly attached = new Map<string, ShadowListener>();
  private readonly getBackoff: Backoff;
  private readonly tokenPrefix = `sp-${randomBytes(4).toString('hex')}-`;
  private tokenCounter = 0;
  private mirror: ShadowMirror | undefined;
  private getToken: string | undefined;
  private getTimer: NodeJS.Timeout | undefined;
  private readonly pending = new Map<string, Pending>();
  private started = 0;

  constructor(options: ShadowSessionOptions) {
    super();
    this.topics = shadowTopics(options.thingName, options.shadowName);
    this.logger = options.logger ?? silentLogger;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.getBackoff = new Backoff(options.reconnect ?? DEFAULT_RECONNECT);
    this.connection = new MqttConnection(options, {
      required: deviceSubscriptions(this.topics, ['updateAccepted']),
      optional: () => [...this.attached.keys()],
      connected: () => {
        this.emit('connected');
        this.refresh();
        for (const listener of new Set(this.attached.values())) listener.onConnected();
      },
      dropped: (wasOnline) => {
        this.clearGet();
        this.rejectPending('connection lost before the shadow answered', true);
        if (wasOnline) this.emit('offline');
      },
      message: (topic, payload) => this.onMessage(topic, payload),
      error: (err) => this.emit('error', err),
    });
  }

  addCapability(capability: ShadowCapability): void {
    this.capabilities.set(capability.property, capability);
  }

  /** Serve another shadow's topics over this connection (attach before `start`). */
  attach(listener: ShadowListener): void {
    for (const topic of listener.topics) this.attached.set(topic, listener);
  }

  /** Publish on an attached shadow's topic; false when offline (the listener asks again on reconnect) or refused by the policy. */
  publish(topic: string, body: string): boolean {
    return this.connection.publish(topic, body);
  }

  /** Connected, subscribed and able to publish. */
  get online(): boolean {
    return this.connection.online;
  }

  /** Version of the last document seen (undefined before the first `get`). */
  get version(): number | undefined {
    return this.mirror?.version;
  }

  /** Online with a document in hand and no `get` or report of ours unanswered (plug shadows not counted). */
  get quiet(): boolean {
    return this.online && this.mirror !== undefined && this.getToken === undefined && this.pending.size === 0;
  }

  /** Counts every request sent and every view handed to the capabilities (see `quiet`). */
  get activity(): number {
    return this.started;
  }

  start(): void {
    this.connection.start();
  }

  /** A fresh client token; counts as activity (see `quiet`). */
  private token(): string {
    this.started++;
    return `${this.tokenPrefix}${++this.tokenCounter}`;
  }

  /** Ask for the whole document again (after a reconnect, or whenever the mirror may be wrong). */
  refresh(): void {
    if (!this.online) return; // the next connect does it
    const token = this.token();
    this.getToken = token;
    clearTimeout(this.getTimer);
    this.getTimer = setTimeout(() => {
      if (this.getToken === token) {
        this.logger.warn('no answer to shadow get; asking again');
        this.refresh();
      }
    }, this.requestTimeoutMs);
    this.connection.publish(this.topics.get, JSON.stringify({ clientToken: token }));
  }

  /** Write `reported.<property>`; resolves when accepted, rejects on rejection, timeout or being offline. */
  report(property: string, value: Json): Promise<void> {
    if (!this.online) {
      // Not queued: a stale report sent after a newer one would make `reported` lie. The re-get on reconnect makes capabilities report again.
      return Promise.reject(shadowRequestError('not connected; will report after reconnecting', { retryable: true }));
    }
    const token = this.token();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(shadowRequestError(`no answer to the shadow update within ${this.requestTimeoutMs} ms`, { retryable: true }));
        this.refresh();
      }, this.requestTimeoutMs);
      this.pending.set(token, { resolve, reject, timer });
      this.connection.publish(this.topics.update, JSON.stringify({ state: { reported: { [property]: value } }, clientToken: token }));
    });
  }

  private onMessage(topic: string, payload: Buffer): void {
    this.handleMessage(topic, payload);
    // After the capabilities have been told: a view they were handed keeps them busy.
    if (this.quiet) this.emit('quiet');
  }

  private handleMessage(topic: string, payload: Buffer): void {
    const listener = this.attached.get(topic);
    if (listener) return listener.onMessage(topic, payload);
    const msg = readMessage(payload, topic, this.logger, 'shadow');
    if (!msg) return;
    const t = this.topics;
    if (topic === t.getAccepted) this.onGetAccepted(msg);
    else if (topic === t.getRejected) this.onGetRejected(msg);
    else if (topic === t.updateDelta) this.onDelta(msg);
    else if (topic === t.updateAccepted) this.onUpdateAccepted(msg);
    else if (topic === t.updateRejected) this.onUpdateRejected(msg);
  }

  private clearGet(): void {
    this.getToken = undefined;
    clearTimeout(this.getTimer);
    this.getTimer = undefined;
  }

  private endGet(msg: JsonObject): boolean {
    // Only the answer to our latest get counts: an older one could roll the mirror back.
    if (msg.clientToken !== undefined && msg.clientToken !== this.getToken) return false;
    this.clearGet();
    this.getBackoff.reset();
    return true;
  }

  private onGetAccepted(msg: JsonObject): void {
    if (!this.endGet(msg)) return;
    this.mirror = mirrorFromDocument(msg);
    this.logger.debug('shadow document', { version: this.mirror.version });
    this.notify([...this.capabilities.keys()]);
  }

  private onGetRejected(msg: JsonObject): void {
    if (!this.endGet(msg)) return;
    if (msg.code === 404) {
      // No shadow yet: nothing desired.
      this.mirror = { version: this.mirror?.version ?? 0, desired: {}, reported: {} };
      this.notify([...this.capabilities.keys()]);
      return;
    }
    this.logger.warn('shadow get rejected', { code: msg.code, message: msg.message });
    this.emit('error', shadowRequestError(`shadow get rejected: ${String(msg.code)} ${String(msg.message)}`, { status: Number(msg.code), retryable: true }));
    setTimeout(() => this.refresh(), this.getBackoff.next()).unref();
  }

  private onDelta(msg: JsonObject): void {
    const version = typeof msg.version === 'number' ? msg.version : undefined;
    const state = isObject(msg.state) ? msg.state : {};
    const mirror = this.mirror;
    if (!mirror || version === undefined || version > mirror.version + 1) return this.refresh();
    if (version <= mirror.version) {
      // Already in the mirror through update/accepted; tell capabilities in case they missed it.
      this.notify(Object.keys(state));
      return;
    }
    const desired = { ...mirror.desired };
    for (const [property, delta] of Object.entries(state)) {
      const merged = mergeDelta(own(mirror.desired, property), own(mirror.reported, property), delta);
      if (!merged.sure) {
        this.logger.debug('delta cannot be merged with certainty; getting the document', { property, version });
        return this.refresh();
      }
      put(desired, property, merged.value);
    }
    this.mirror = { ...mirror, version, desired };
    this.notify(Object.keys(state));
  }

  /** The report this answer is for (no longer pending), if it is one of ours. */
  private takePending(msg: JsonObject): Pending | undefined {
    const p = typeof msg.clientToken === 'string' ? this.pending.get(msg.clientToken) : undefined;
    if (p) clearTimeout(p.timer);
    this.pending.delete(msg.clientToken as string);
    return p;
  }

  private rejectPending(message: string, retryable: boolean): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(shadowRequestError(message, { retryable }));
    }
    this.pending.clear();
  }

  private onUpdateAccepted(msg: JsonObject): void {
    this.takePending(msg)?.resolve();
    const version = typeof msg.version === 'number' ? msg.version : undefined;
    const mirror = this.mirror;
    if (!mirror || version === undefined || version <= mirror.version) return;
    if (version > mirror.version + 1) return this.refresh();
    this.mirror = applyUpdate(mirror, msg.state, version);
    const state = isObject(msg.state) ? msg.state : {};
    const touched = new Set<string>();
    for (const section of [state.desired, state.reported]) {
      if (section === null) for (const k of this.capabilities.keys()) touched.add(k);
      else if (isObject(section)) for (const k of Object.keys(section)) touched.add(k);
    }
    this.notify([...touched]);
  }

  private onUpdateRejected(msg: JsonObject): void {
    const p = this.takePending(msg);
    if (!p) return;
    const code = typeof msg.code === 'number' ? msg.code : undefined;
    const retryable = code === 409 || (code !== undefined && code >= 500);
    p.reject(shadowRequestError(`shadow update rejected: ${code ?? '?'} ${String(msg.message)}`, { ...(code !== undefined ? { status: code } : {}), retryable }));
  }

  private notify(properties: string[]): void {
    const mirror = this.mirror;
    if (!mirror) return;
    this.started++;
    for (const property of properties) {
      const capability = this.capabilities.get(property);
      if (!capability) continue;
      try {
        capability.onShadow({ desired: own(mirror.desired, property), reported: own(mirror.reported, property), version: mirror.version });
      } catch (err) {
        this.logger.error('capability failed handling the shadow', { property, err });
      }
    }
  }

  async close(): Promise<void> {
    this.clearGet();
    this.rejectPending('session closed', false);
    await this.connection.close();
  }
}

/** The shadow service rejected a request or did not answer in time. */
function shadowRequestError(message: string, options: { retryable: boolean; status?: number }): AgentError {
  return new AgentError(message, { code: 'SHADOW_REQUEST', ...options });
}
