/**
 * One device's Device Shadow session over MQTT (mutual TLS). Each capability owns one property and
 * is told when it may have changed. The mirror of the document moves one version at a time; a gap
 * or a delta that cannot be merged with certainty triggers a fresh `get`. On every connect the
 * replies are subscribed before the empty `get` is published (as AWS requires).
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { deviceSubscriptions, shadowTopics, type ShadowTopics } from '../core/shadow/topics';
import { silentLogger, type Logger } from '../core/logger';
import { formatHostPort } from '../core/util/host-port';
import { Backoff, FlapDetector } from './backoff';
import { AgentError } from './errors';
import { isObject, own, put, type Json, type JsonObject } from '../core/shadow/json';
import { readMessage, type ShadowCapability, type ShadowListener } from './shadow-capability';
import { applyUpdate, mergeDelta, mirrorFromDocument, type ShadowMirror } from './shadow-state';

export interface ShadowSessionOptions {
  host: string;
  port: number;
  cert: string | Buffer;
  key: string | Buffer;
  ca?: string | Buffer;
  clientId: string;
  thingName: string;
  shadowName?: string;
  logger?: Logger;
  /** Reconnect backoff (default 1 s doubling to 60 s). */
  reconnect?: { initialMs: number; maxMs: number };
  /** Epoch ms (connection lifetimes); default Date.now. */
  clock?: () => number;
  /** How long to wait for `accepted`/`rejected` (default 10 s). */
  requestTimeoutMs?: number;
}

interface Pending {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** A connection closed this soon after a publish was closed because of it (see blamePublish). */
const PUBLISH_DROP_WINDOW_MS = 1000;

export class ShadowSession extends EventEmitter {
  private readonly topics: ShadowTopics;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly requestTimeoutMs: number;
  private readonly capabilities = new Map<string, ShadowCapability>();
  private readonly attached = new Map<string, ShadowListener>();
  private readonly backoff: Backoff;
  private readonly getBackoff: Backoff;
  private readonly flaps: FlapDetector;
  private readonly tokenPrefix = `sp-${randomBytes(4).toString('hex')}-`;
  private tokenCounter = 0;
  private client: MqttClient | undefined;
  private mirror: ShadowMirror | undefined;
  private getToken: string | undefined;
  private getTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly pending = new Map<string, Pending>();
  private closing = false;
  private subscribed = false;
  /** What the current connection subscribed to (unsubscribed before a graceful end). */
  private topicsSubscribed: string[] = [];
  /** The last publish of this connection: a drop right after it is blamed on it. */
  private lastPublish: { topic: string; at: number } | undefined;
  /** Drops in a row that followed a publish to the same topic. */
  private dropsAfter: { topic: string; count: number } | undefined;
  /** Topics the policy refuses (see blamePublish, or their replies' subscription refused): not published to again. */
  private readonly refused = new Set<string>();
  private refusedReplies: string[] = [];
  private started = 0;

  constructor(private readonly options: ShadowSessionOptions) {
    super();
    this.topics = shadowTopics(options.thingName, options.shadowName);
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? Date.now;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    const reconnect = options.reconnect ?? { initialMs: 1000, maxMs: 60_000 };
    this.backoff = new Backoff(reconnect);
    this.getBackoff = new Backoff(reconnect);
    // Twice the backoff's maximum: two clients sharing a client id, each dropped when the other connects, never look healthy.
    this.flaps = new FlapDetector({ stableMs: 2 * reconnect.maxMs, clock: this.clock });
  }

  addCapability(capability: ShadowCapability): void {
    this.capabilities.set(capability.property, capability);
  }

  /** Serve another shadow's topics over this connection (attach before `start`). */
  attach(listener: ShadowListener): void {
    for (const topic of listener.topics) this.attached.set(topic, listener);
  }

  /** Publish on an attached shadow's topic; false when offline (the listener asks again on reconnect). */
  publish(topic: string, body: string): boolean {
    const client = this.client;
    const refused = this.refused.has(topic) || this.refusedReplies.some((r) => r.startsWith(`${topic}/`));
    if (!client || !this.online || refused) return false;
    this.send(client, topic, body);
    return true;
  }

  private send(client: MqttClient, topic: string, body: string): void {
    this.lastPublish = { topic, at: this.clock() };
    client.publish(topic, body, { qos: 0 });
  }

  /** Connected, subscribed and able to publish. */
  get online(): boolean {
    return !!this.client?.connected && this.subscribed;
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
    const o = this.options;
    const client = mqtt.connect({
      protocol: 'mqtts',
      host: o.host,
      port: o.port,
      cert: o.cert,
      key: o.key,
      ...(o.ca ? { ca: o.ca } : {}),
      rejectUnauthorized: true,
      clientId: o.clientId,
      protocolVersion: 4,
      clean: true,
      keepalive: 30,
      connectTimeout: 10_000,
      // Reconnects are ours (with backoff); subscriptions are made again on every connect.
      reconnectPeriod: 0,
      resubscribe: false,
      queueQoSZero: false,
    });
    this.client = client;
    client.on('connect', () => void this.onConnect(client));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => this.logger.warn('mqtt error', { err: err.message, endpoint: formatHostPort(o.host, o.port) }));
    client.on('close', () => this.onClose());
  }

  /** Subscribe; the filters the broker refused (SUBACK 0x80). */
  private async subscribeAll(client: MqttClient, topics: string[]): Promise<string[]> {
    if (topics.length === 0) return [];
    try {
      const granted = await client.subscribeAsync(topics, { qos: 1 });
      return granted.filter((g) => g.qos === 128).map((g) => g.topic);
    } catch (err) {
      // MQTT.js rejects when any filter is refused; the others are granted all the same.
      const codes = (err as { packet?: { granted?: number[] } }).packet?.granted;
      if (!codes) throw err;
      return codes.length === topics.length ? topics.filter((_, i) => (codes[i]! & 0x80) !== 0) : topics;
    }
  }

  private async onConnect(client: MqttClient): Promise<void> {
    this.flaps.connected();
    this.logger.info('mqtt connected', { endpoint: formatHostPort(this.options.host, this.options.port), clientId: this.options.clientId });
    try {
      const own = deviceSubscriptions(this.topics, ['updateAccepted']);
      const refused = await this.subscribeAll(client, own);
      if (refused.length > 0) {
        // The policy does not allow this thing's shadow topics: reconnecting will not help soon.
        this.logger.error('subscription refused (check the IoT policy and thing name)', { topics: refused });
        this.emit('error', shadowRequestError(`subscription refused for ${refused.join(', ')}`, { retryable: false }));
        client.end(true);
        return;
      }
      // Another shadow served over this connection (a plug's) refused: go on without it, not in a reconnect loop.
      const others = await this.subscribeAll(client, [...this.attached.keys()]);
      if (others.some((topic) => !this.refusedReplies.includes(topic))) {
        this.logger.error('subscription refused by the IoT policy; those shadows are not served (allow them in the device policy)', { topics: others });
        this.emit('error', new AgentError(`subscription refused for ${others.join(', ')}`, { code: 'POLICY_REFUSED', retryable: false }));
      }
      this.refusedReplies = others;
      this.topicsSubscribed = [...own, ...this.attached.keys()].filter((topic) => !others.includes(topic));
    } catch (err) {
      this.logger.warn('subscribe failed', { err });
      return; // the close handler reconnects
    }
    this.subscribed = true;
    this.emit('connected');
    this.refresh();
    for (const listener of new Set(this.attached.values())) listener.onConnected();
  }

  private onClose(): void {
    const wasOnline = this.subscribed;
    this.subscribed = false;
    this.clearGet();
    this.rejectPending('connection lost before the shadow answered', true);
    if (this.closing) return;
    if (wasOnline) this.emit('offline');
    const connection = this.flaps.closed();
    if (connection.stable) this.backoff.reset();
    const delay = this.backoff.next();
    // A drop blamed on a publish is logged there: the policy, not another client.
    if (!this.blamePublish(connection.lastedMs !== undefined) && connection.flaps >= 2) {
      // The broker drops a connection when another one arrives with the same client id.
      this.logger.warn(`connection dropped soon after connecting, ${connection.flaps} times in a row: another client is connected as ${this.options.clientId}?`, {
        clientId: this.options.clientId,
        lastedMs: connection.lastedMs,
        flaps: connection.flaps,
      });
    }
    this.logger.info('mqtt disconnected, reconnecting', { inMs: delay, attempt: this.backoff.attempts });
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (!this.closing) this.client?.reconnect();
    }, delay);
  }

  /**
   * IoT Core (MQTT 3.1.1) closes the connection of a client that publishes where its policy does
   * not allow, without saying why. A drop within a second of a publish to another shadow's topic,
   * twice in a row after the same topic, marks that topic refused (a reconnect loop would not
   * help). Its own shadow's requests are not blamed: every connection, and a client-id takeover,
   * starts with them. True when the drop followed a publish.
   */
  private blamePublish(wasConnected: boolean): boolean {
    const last = this.lastPublish;
    this.lastPublish = undefined;
    const own = last !== undefined && (last.topic === this.topics.get || last.topic === this.topics.update);
    if (!wasConnected || !last || own || this.clock() - last.at > PUBLISH_DROP_WINDOW_MS) {
      this.dropsAfter = undefined;
      return false;
    }
    const count = this.dropsAfter?.topic === last.topic ? this.dropsAfter.count + 1 : 1;
    this.dropsAfter = { topic: last.topic, count };
    if (count < 2) return true;
    if (!this.refused.has(last.topic)) {
      this.refused.add(last.topic);
      this.logger.error('the broker closed the connection right after each publish to this topic: the IoT policy refuses it; not publishing there again (allow it in the device policy and restart)', {
        topic: last.topic,
        drops: count,
      });
      this.emit('error', new AgentError(`publish to ${last.topic} refused by the IoT policy (connection closed after it ${count} times)`, { code: 'POLICY_REFUSED', retryable: false }));
    }
    this.dropsAfter = undefined;
    return true;
  }

  /** A fresh client token; counts as activity (see `quiet`). */
  private token(): string {
    this.started++;
    return `${this.tokenPrefix}${++this.tokenCounter}`;
  }

  /** Ask for the whole document again (after a reconnect, or whenever the mirror may be wrong). */
  refresh(): void {
    const client = this.client;
    if (!client || !this.online) return; // the next connect does it
    const token = this.token();
    this.getToken = token;
    clearTimeout(this.getTimer);
    this.getTimer = setTimeout(() => {
      if (this.getToken === token) {
        this.logger.warn('no answer to shadow get; asking again');
        this.refresh();
      }
    }, this.requestTimeoutMs);
    this.send(client, this.topics.get, JSON.stringify({ clientToken: token }));
  }

  /** Write `reported.<property>`; resolves when accepted, rejects on rejection, timeout or being offline. */
  report(property: string, value: Json): Promise<void> {
    const client = this.client;
    if (!client || !this.online) {
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
      this.send(client, this.topics.update, JSON.stringify({ state: { reported: { [property]: value } }, clientToken: token }));
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
    const token = typeof msg.clientToken === 'string' ? msg.clientToken : undefined;
    const p = token === undefined ? undefined : this.pending.get(token);
    if (!p) return undefined;
    clearTimeout(p.timer);
    this.pending.delete(token!);
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
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.getTimer);
    this.rejectPending('session closed', false);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (client.connected && this.topicsSubscribed.length > 0) {
      // Unsubscribed first: a QoS 1 message (an answer to a report still in flight) arriving after
      // DISCONNECT would be acknowledged on the ended stream ("write after end").
      let timer: NodeJS.Timeout | undefined;
      const giveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.requestTimeoutMs)));
      await Promise.race([client.unsubscribeAsync(this.topicsSubscribed).catch(() => undefined), giveUp]);
      clearTimeout(timer);
    }
    await client.endAsync(!client.connected);
  }
}

/** The shadow service rejected a request or did not answer in time. */
function shadowRequestError(message: string, options: { retryable: boolean; status?: number }): AgentError {
  return new AgentError(message, { code: 'SHADOW_REQUEST', ...options });
}
