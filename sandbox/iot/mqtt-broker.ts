/**
 * MQTT 3.1.1 over mutual TLS (aedes on a Node `tls` server), with IoT Core's policy checks: a
 * thing's certificate (CN = thing name) carries the device policy the stack deploys
 * (core/iot-policy/device-policy.ts, evaluated by core/iot-policy/policy.ts for connect, publish,
 * subscribe and receive); a button certificate (OU=button) may only publish on its own
 * `iotbutton/<serial>`. Refusals are logged. An optional plain listener (no TLS, no policy) is
 * for local debugging only; in-process code watches messages with `observe` instead (no socket).
 */
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, TLSSocket } from 'node:tls';
import { listen, SERVER_LIMITS } from '../http-server';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';
import { silentLogger, type Logger } from '../../core/logger';
import { buttonPolicy, CLASSIC_SHADOW, devicePolicy } from '../../core/iot-policy/device-policy';
import { isAllowed, type IotAction, type IotPolicy } from '../../core/iot-policy/policy';
import { iotCoreClosed, iotCoreInvalidName, iotCoreListenError } from './errors';
import { BUTTON_CLIENT_PREFIX } from './certificate-authority';

interface MqttIdentity {
  /** Certificate CN: thing name, or the button's client id. */
  commonName: string;
  role: 'thing' | 'button';
  /** For a button, the serial it may publish as. */
  serial?: string;
}

export interface MqttBrokerOptions {
  host: string;
  port: number;
  plainPort?: number;
  tls: { cert: string; key: string; ca: string };
  /** Each publish by a client, after authorisation (the shadow service and the topic rule hang here). */
  onPublish: (topic: string, payload: Buffer, client: Client) => void;
  /** The IoT policy every thing certificate carries (default: the stack's, for the classic shadow). */
  devicePolicy?: IotPolicy;
  logger?: Logger;
}

export interface MqttBroker {
  port: number;
  plainPort?: number;
  /** Publish from the broker itself (QoS 1, not retained). */
  publish(topic: string, payload: Buffer): void;
  /**
   * Resolves when every message published with `publish` so far has been handed to every matching
   * subscriber and observer, or dropped because the broker closed: after it, such a message can
   * no longer arrive anywhere.
   */
  delivered(): Promise<void>;
  /** Watch every message matching an MQTT topic filter, in process; returns the unsubscribe. See MqttObserver. */
  observe(topicFilter: string, onMessage: MqttObserver): () => void;
  close(): Promise<void>;
}

/**
 * Called with each message (from a client or from the service itself) on a matching topic. It
 * runs inside the broker's delivery: keep it short. A throw or a rejected promise is logged and
 * changes nothing for the broker or for the other subscribers.
 */
export type MqttObserver = (topic: string, payload: Buffer) => void | Promise<void>;

/** aedes' default limit on topic levels (it refuses deeper topics and filters). */
const MAX_TOPIC_LEVELS = 100;

/** An MQTT topic filter: `+` and `#` only as whole levels, `#` only last, no NUL, at most 100 levels. */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0 || filter.length > 65_535 || filter.includes('\0')) return false;
  const levels = filter.split('/');
  if (levels.length > MAX_TOPIC_LEVELS) return false;
  return levels.every((level, i) => {
    if (level === '#') return i === levels.length - 1;
    return level === '+' || !/[+#]/.test(level);
  });
}

function identityOf(socket: TLSSocket): MqttIdentity | undefined {
  const subject = socket.getPeerCertificate()?.subject as Record<string, string | string[]> | undefined;
  const cn = subject?.CN;
  if (typeof cn !== 'string') return undefined;
  if (subject?.OU === 'button' && cn.startsWith(BUTTON_CLIENT_PREFIX)) {
    return { commonName: cn, role: 'button', serial: cn.slice(BUTTON_CLIENT_PREFIX.length) };
  }
  return { commonName: cn, role: 'thing' };
}

export async function startMqttBroker(options: MqttBrokerOptions): Promise<MqttBroker> {
  const logger = options.logger ?? silentLogger;
  const policy = options.devicePolicy ?? devicePolicy({ shadows: [CLASSIC_SHADOW] });
  const identities = new WeakMap<object, MqttIdentity>();
  const sockets = new Set<Socket>();
  const aedes = await brokerWithPolicy(policy, identities, logger);

  aedes.on('publish', (packet: AedesPublishPacket, client: Client | null) => {
    if (!client) return; // our own responses
    try {
      options.onPublish(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload), client);
    } catch (err) {
      logger.error('mqtt publish handler failed', { topic: packet.topic, error: err });
    }
  });
  aedes.on('clientError', (client, err) => logger.debug('mqtt client error', { clientId: client.id, error: err.message }));

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  const tlsServer = createTlsServer(
    { cert: options.tls.cert, key: options.tls.key, ca: options.tls.ca, requestCert: true, rejectUnauthorized: true, handshakeTimeout: SERVER_LIMITS.headersTimeoutMs },
    (socket) => {
      const id = identityOf(socket);
      if (id) identities.set(socket, id);
      aedes.handle(socket);
    },
  );
  tlsServer.on('connection', track);
  tlsServer.on('tlsClientError', (err, socket) => {
    logger.warn('mqtt TLS handshake refused', { remote: `${socket.remoteAddress}:${socket.remotePort}`, reason: err.message });
  });

  const servers: (TcpServer | TlsServer)[] = [tlsServer];
  try {
    const port = await listen(tlsServer, options.host, options.port, (err) => iotCoreListenError('MQTT over TLS', options.host, options.port, err));
    let plainPort: number | undefined;
    if (options.plainPort !== undefined) {
      const plain = createTcpServer((socket) => aedes.handle(socket)).on('connection', track);
      servers.push(plain);
      plainPort = await listen(plain, options.host, options.plainPort, (err) => iotCoreListenError('plain MQTT', options.host, options.plainPort!, err));
    }
    let closed: Promise<void> | undefined;
    const observers = observerRegistry(aedes, logger, () => closed !== undefined);
    const inFlight = new Set<Promise<void>>();
    return {
      port,
      ...(plainPort !== undefined ? { plainPort } : {}),
      publish(topic, payload) {
        const done = new Promise<void>((resolve) => {
          aedes.publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false }, (err) => {
            if (err) logger.error('mqtt publish failed', { topic, error: err });
            resolve();
          });
        });
        inFlight.add(done);
        void done.then(() => inFlight.delete(done));
      },
      delivered: async () => void (await Promise.all([...inFlight])),
      observe: observers.observe,
      close() {
        if (!closed) observers.stopAll();
        closed ??= closeAll(aedes, servers, sockets);
        return closed;
      },
    };
  } catch (err) {
    await closeAll(aedes, servers, sockets);
    throw err;
  }
}

/** aedes with IoT Core's checks: client id = certificate CN, and the policy on connect, publish, subscribe and delivery. */
function brokerWithPolicy(policy: IotPolicy, identities: WeakMap<object, MqttIdentity>, logger: Logger): Promise<Aedes> {
  /** May this client do `action` on `resource` (client id, topic or topic filter)? */
  const permits = (client: Client, action: IotAction, resource: string): boolean => {
    // Clients on the plain listener have no identity and no policy (a local tool port).
    if (!(client.conn instanceof TLSSocket)) return true;
    const id = identities.get(client.conn);
    if (!id) return false;
    if (id.role === 'button') return isAllowed(buttonPolicy(id.serial ?? '', id.commonName), action, resource);
    return isAllowed(policy, action, resource, { thingName: id.commonName });
  };
  return Aedes.createBroker({
    // A client that connects and never finishes its CONNECT is dropped, as a slow HTTP header is.
    connectTimeout: SERVER_LIMITS.headersTimeoutMs,
    authenticate(client, _username, _password, done) {
      if (permits(client, 'iot:Connect', client.id)) return done(null, true);
      logger.warn('mqtt connection refused: client id must equal the certificate CN', { clientId: client.id, commonName: identities.get(client.conn)?.commonName });
      done(Object.assign(new Error('client id does not match certificate'), { returnCode: 5 as const }), false);
    },
    authorizePublish(client, packet, callback) {
      if (!client || permits(client, 'iot:Publish', packet.topic)) return callback(null);
      // IoT Core closes the connection of a client that publishes outside its policy; aedes does too.
      logger.warn('mqtt publish refused by policy', { clientId: client.id, topic: packet.topic });
      callback(new Error(`not authorised to publish to ${packet.topic}`));
    },
    authorizeSubscribe(client, sub, callback) {
      if (permits(client, 'iot:Subscribe', sub.topic)) return callback(null, sub);
      logger.warn('mqtt subscription refused by policy', { clientId: client.id, topic: sub.topic });
      callback(null, null); // SUBACK 0x80 for this filter, as IoT Core answers
    },
    authorizeForward(client, packet) {
      if (!client || permits(client, 'iot:Receive', packet.topic)) return packet;
      // IoT Core drops a message the subscriber may not receive, and keeps the connection.
      logger.warn('mqtt delivery refused by policy', { clientId: client.id, topic: packet.topic });
      return null;
    },
  });
}

/** Observers of messages in process: aedes' own subscribe, straight on its emitter (no socket, no client). */
function observerRegistry(aedes: Aedes, logger: Logger, isClosed: () => boolean): { observe(topicFilter: string, onMessage: MqttObserver): () => void; stopAll(): void } {
  const observers = new Set<() => void>();
  const observe = (topicFilter: string, onMessage: MqttObserver): (() => void) => {
    if (isClosed()) throw iotCoreClosed('observe');
    if (!isValidTopicFilter(topicFilter)) {
      throw iotCoreInvalidName('topic filter', topicFilter, '"+" and "#" only as whole levels, "#" only last, at most 100 levels');
    }
    // MQTT: a filter starting with a wildcard does not match topics starting with "$" ($SYS, $aws).
    const skipDollar = topicFilter.startsWith('+') || topicFilter.startsWith('#');
    let active = true;
    const fail = (topic: string, err: unknown) => logger.error('mqtt observer failed', { topicFilter, topic, error: err });
    const deliver = (packet: AedesPublishPacket, done: () => void) => {
      if (active && !(skipDollar && packet.topic.startsWith('$'))) {
        try {
          const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
          const result = onMessage(packet.topic, payload);
          if (result && typeof result.then === 'function') result.then(undefined, (err: unknown) => fail(packet.topic, err));
        } catch (err) {
          fail(packet.topic, err);
        }
      }
      done();
    };
    const unsubscribe = () => {
      if (!active) return;
      active = false; // at once: aedes removes the listener on the next turn
      observers.delete(unsubscribe);
      aedes.unsubscribe(topicFilter, deliver, () => {});
    };
    observers.add(unsubscribe);
    // Registered synchronously: a message published after this call reaches the observer.
    aedes.subscribe(topicFilter, deliver, () => {});
    return unsubscribe;
  };
  return { observe, stopAll: () => [...observers].forEach((unsubscribe) => unsubscribe()) };
}

async function closeAll(aedes: Aedes, servers: (TcpServer | TlsServer)[], sockets: Set<Socket>): Promise<void> {
  for (const server of servers) server.close();
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => aedes.close(() => resolve()));
}
