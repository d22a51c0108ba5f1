/**
 * A device's MQTT connection to IoT Core (mutual TLS, MQTT 3.1.1, clean session): reconnects with
 * backoff, subscribes again on every connect, warns when another client seems to share its client
 * id, and finds the topics the IoT policy refuses so that they are not published to again.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { silentLogger, type Logger } from '../core/logger';
import { formatHostPort } from '../core/util/host-port';
import { Backoff, FlapDetector } from './backoff';
import { AgentError } from './errors';

export interface MqttConnectionOptions {
  host: string;
  port: number;
  cert: string | Buffer;
  key: string | Buffer;
  ca?: string | Buffer;
  clientId: string;
  logger?: Logger;
  /** Reconnect backoff (default 1 s doubling to 60 s). */
  reconnect?: { initialMs: number; maxMs: number };
  /** Epoch ms (connection lifetimes); default Date.now. */
  clock?: () => number;
  /** How long to wait for `accepted`/`rejected` (default 10 s). */
  requestTimeoutMs?: number;
}

export const DEFAULT_RECONNECT = { initialMs: 1000, maxMs: 60_000 };
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** What runs over the connection. */
export interface ConnectionUser {
  /** Subscribed on every connect; one refused ends the connection (the policy does not allow this thing). */
  readonly required: readonly string[];
  /** Subscribed too (other shadows served over this connection); one refused is left out and its requests not published. */
  optional(): string[];
  /** Connected and subscribed. */
  connected(): void;
  /** The connection dropped (not after `close`); `wasOnline` when it had been subscribed. */
  dropped(wasOnline: boolean): void;
  message(topic: string, payload: Buffer): void;
  error(err: AgentError): void;
}

/** A connection closed this soon after a publish was closed because of it (see blamePublish). */
const PUBLISH_DROP_WINDOW_MS = 1000;

export class MqttConnection {
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly backoff: Backoff;
  private readonly flaps: FlapDetector;
  private client: MqttClient | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private subscribed = false;
  /** What the current connection subscribed to (unsubscribed before a graceful end). */
  private subscriptions: string[] = [];
  /** The last publish of this connection: a drop right after it is blamed on it. */
  private lastPublish: { topic: string; at: number } | undefined;
  /** Drops in a row that followed a publish to the same topic. */
  private dropsAfter: { topic: string; count: number } | undefined;
  /** Topics the policy refuses (see blamePublish, or their replies' subscription refused): not published to again. */
  private readonly refused = new Set<string>();
  private refusedReplies: string[] = [];

  constructor(
    private readonly options: MqttConnectionOptions,
    private readonly user: ConnectionUser,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? Date.now;
    const reconnect = options.reconnect ?? DEFAULT_RECONNECT;
    this.backoff = new Backoff(reconnect);
    // Twice the backoff's maximum: two clients sharing a client id, each dropped when the other connects, never look healthy.
    this.flaps = new FlapDetector({ stableMs: 2 * reconnect.maxMs, clock: this.clock });
  }

  /** Connected, subscribed and able to publish. */
  get online(): boolean {
    return !!this.client?.connected && this.subscribed;
  }

  /** False when offline or the policy refuses the topic. */
  publish(topic: string, body: string): boolean {
    const client = this.client;
    const refused = this.refused.has(topic) || this.refusedReplies.some((r) => r.startsWith(`${topic}/`));
    if (!client || !this.online || refused) return false;
    this.lastPublish = { topic, at: this.clock() };
    client.publish(topic, body, { qos: 0 });
    return true;
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
    client.on('message', (topic, payload) => this.user.message(topic, payload));
    client.on('error', (err) => this.logger.warn('mqtt error', { err: err.message, endpoint: formatHostPort(o.host, o.port) }));
    client.on('close', () => this.onClose());
  }

  /** Subscribe; the filters the broker refused (SUBACK 0x80). */
  private async subscribe(client: MqttClient, topics: readonly string[]): Promise<string[]> {
    if (topics.length === 0) return [];
    try {
      const granted = await client.subscribeAsync([...topics], { qos: 1 });
      return granted.filter((g) => g.qos === 128).map((g) => g.topic);
    } catch (err) {
      // MQTT.js rejects when any filter is refused; the others are granted all the same.
      const codes = (err as { packet?: { granted?: number[] } }).packet?.granted;
      if (!codes) throw err;
      return codes.length === topics.length ? topics.filter((_, i) => (codes[i]! & 0x80) !== 0) : [...topics];
    }
  }

  private async onConnect(client: MqttClient): Promise<void> {
    this.flaps.connected();
    this.logger.info('mqtt connected', { endpoint: formatHostPort(this.options.host, this.options.port), clientId: this.options.clientId });
    const { required } = this.user;
    try {
      const refused = await this.subscribe(client, required);
      if (refused.length > 0) {
        // The policy does not allow this thing's shadow topics: reconnecting will not help soon.
        this.logger.error('subscription refused (check the IoT policy and thing name)', { topics: refused });
        this.user.error(new AgentError(`subscription refused for ${refused.join(', ')}`, { code: 'SHADOW_REQUEST', retryable: false }));
        client.end(true);
        return;
      }
      // An optional subscription refused: go on without it, not in a reconnect loop.
      const optional = this.user.optional();
      const others = await this.subscribe(client, optional);
      if (others.some((topic) => !this.refusedReplies.includes(topic))) {
        this.logger.error('subscription refused by the IoT policy; those shadows are not served (allow them in the device policy)', { topics: others });
        this.user.error(new AgentError(`subscription refused for ${others.join(', ')}`, { code: 'POLICY_REFUSED', retryable: false }));
      }
      this.refusedReplies = others;
      this.subscriptions = [...required, ...optional].filter((topic) => !others.includes(topic));
    } catch (err) {
      this.logger.warn('subscribe failed', { err });
      return; // the close handler reconnects
    }
    this.subscribed = true;
    this.user.connected();
  }

  private onClose(): void {
    const wasOnline = this.subscribed;
    this.subscribed = false;
    if (this.closing) return;
    this.user.dropped(wasOnline);
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
   * help). Publishes answered on required topics (the session's own `get` and `update`) are not
   * blamed: every connection, and a client-id takeover, starts with them. True when the drop
   * followed a publish.
   */
  private blamePublish(wasConnected: boolean): boolean {
    const last = this.lastPublish;
    this.lastPublish = undefined;
    const own = last !== undefined && this.user.required.some((t) => t.startsWith(`${last.topic}/`));
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
      this.user.error(new AgentError(`publish to ${last.topic} refused by the IoT policy (connection closed after it ${count} times)`, { code: 'POLICY_REFUSED', retryable: false }));
    }
    this.dropsAfter = undefined;
    return true;
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (client.connected && this.subscriptions.length > 0) {
      // Unsubscribed first: a QoS 1 message (an answer to a report still in flight) arriving after
      // DISCONNECT would be acknowledged on the ended stream ("write after end").
      let timer: NodeJS.Timeout | undefined;
      const giveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)));
      await Promise.race([client.unsubscribeAsync(this.subscriptions).catch(() => undefined), giveUp]);
      clearTimeout(timer);
    }
    await client.endAsync(!client.connected);
  }
}
