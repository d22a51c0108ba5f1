/**
 * A local stand-in for AWS IoT Core on 127.0.0.1: a certificate authority, MQTT over mutual TLS
 * with thing-scoped authorisation, the Device Shadow service (MQTT and the data-plane HTTPS API),
 * the credentials provider and the button topic rule. See docs/iot-core.md.
 */
import { Agent } from 'node:https';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { IoTClient } from '@aws-sdk/client-iot';
import { TokenBucket } from '../core/fleet/token-bucket';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { silentLogger, type Logger } from '../core/logger';
import { formatHostPort } from '../core/util/host-port';
import type { IotPolicy } from '../core/iot-policy/policy';
import type { JsonObject } from './iot/shadow-document';
import { CertificateAuthority, type ButtonCertificate, type ThingCertificate } from './iot/certificate-authority';
import { ButtonRule, type ButtonHandler } from './iot/button-rule';
import { startCredentialsProvider, type ProvidedCredentials } from './iot/credentials-provider';
import { startDataPlane } from './iot/data-plane';
import { startControlPlane } from './iot/control-plane';
import { ThingGroups, type ThingGroupSpec } from './iot/thing-groups';
import { iotCoreInvalidName } from './iot/errors';
import { startMqttBroker, type MqttBroker, type MqttObserver } from './iot/mqtt-broker';
import { ShadowService, type ShadowRequestResult } from './iot/shadow-service';
import { ShadowStore } from './iot/shadow-store';
import { JobsService } from './iot/jobs-service';

export type { ButtonRuleEvent, ButtonHandler } from './iot/button-rule';
export type { ThingCertificate, ButtonCertificate } from './iot/certificate-authority';
export type { ShadowRequestResult } from './iot/shadow-service';
export type { MqttObserver } from './iot/mqtt-broker';
export type { ThingGroupSpec } from './iot/thing-groups';

export const DEFAULT_ROLE_ALIAS = 'shadowplug-role-alias';
/** What the sandbox's credentials provider hands out unless told otherwise (the local S3's keys). */
const DEFAULT_CREDENTIALS: ProvidedCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const ROLE_ALIAS_PATTERN = /^[\w=,@-]{1,128}$/;

export interface IotCoreOptions {
  /** Where the CA and certificates live (PEM files, created once and reused). */
  dir: string;
  host?: string;
  /** 0 (default) picks a free port; likewise for the other ports. */
  mqttPort?: number;
  /** Plain MQTT WITHOUT TLS OR POLICY (anyone may publish to any shadow): debugging only, off unless given. */
  plainMqttPort?: number;
  dataPlanePort?: number;
  credentialsPort?: number;
  /** Certificates issued at start (more with issueThing/issueButton). */
  things?: string[];
  buttons?: string[];
  roleAlias?: string;
  /** What the credentials provider hands out (default the local S3's S3RVER/S3RVER, one hour). */
  credentials?: ProvidedCredentials;
  /** The IoT policy on every thing certificate (default: the stack's device policy for the classic shadow). */
  devicePolicy?: IotPolicy;
  /** The button topic rule's action. */
  onButton?: ButtonHandler;
  /** Persist shadows here (JSON, atomic writes); in memory when absent. */
  dataDir?: string;
  /** One RSA key for all device certificates of this run (fast fleets); see CertificateAuthority. */
  sharedDeviceKey?: boolean;
  /** Thing groups created at start, in order (a parent before its children). */
  thingGroups?: ThingGroupSpec[];
  /** Above this many data-plane requests per second, answer 429 ThrottlingException as AWS does above its quota; default unlimited. */
  dataPlaneRatePerSecond?: number;
  /** Instead of the rate: a request is answered 429 when this returns false (a test's deterministic throttle). */
  dataPlaneThrottle?: () => boolean;
  /** Epoch milliseconds; default Date.now. */
  clock?: () => number;
  /** The Jobs stand-in's own time (roll-out minutes, timeouts), so a test can step it; default `clock` and timers. */
  jobsTime?: { clock: () => number; schedule: (at: number, fn: () => void) => () => void };
  logger?: Logger;
}

/** A running stand-in: its endpoints, certificates, shadows, Jobs and SDK clients (see `iotCoreApi`). */
export type IotCore = ReturnType<typeof iotCoreApi>;

/** The CA with a certificate for every thing and button, the registered things and their groups. */
function openRegistry(options: IotCoreOptions) {
  const ca = CertificateAuthority.open(options.dir, { sharedDeviceKey: options.sharedDeviceKey ?? false });
  const registered = new Set<string>();
  const groups = new ThingGroups(() => registered);
  for (const name of options.things ?? []) {
    ca.issueThing(name);
    registered.add(name);
  }
  for (const spec of options.thingGroups ?? []) groups.create(spec);
  for (const serial of options.buttons ?? []) ca.issueButton(serial);
  return { ca, registered, groups };
}

export async function startIotCore(options: IotCoreOptions): Promise<IotCore> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? Date.now;
  const roleAlias = options.roleAlias ?? DEFAULT_ROLE_ALIAS;
  if (!ROLE_ALIAS_PATTERN.test(roleAlias)) throw iotCoreInvalidName('role alias', roleAlias, 'expected [\\w=,@-]{1,128}');

  const { ca, registered, groups } = openRegistry(options);
  const server = ca.serverCertificate();
  const throttle = options.dataPlaneThrottle ?? (options.dataPlaneRatePerSecond !== undefined ? rateLimit(options.dataPlaneRatePerSecond) : undefined);
  const store = new ShadowStore({ ...(options.dataDir ? { dataDir: options.dataDir } : {}), logger: logger.child({ component: 'shadow-store' }) });
  // The broker starts after the services are built; until then nothing can publish anyway.
  let publishRaw: (topic: string, payload: Buffer) => void = () => {};
  const publish = (topic: string, payload: unknown) => publishRaw(topic, Buffer.from(JSON.stringify(payload)));
  const shadows = new ShadowService({ store, clock, logger: logger.child({ component: 'shadow' }), publish });
  const jobs = new JobsService({ publish, ...(options.jobsTime ?? { clock }), logger: logger.child({ component: 'jobs' }) });
  const rule = new ButtonRule({ ...(options.onButton ? { handler: options.onButton } : {}), clock, logger: logger.child({ component: 'button-rule' }) });

  const closers: (() => Promise<void>)[] = [async () => jobs.close()];
  const closeAll = async () => {
    await Promise.allSettled(closers.splice(0).map((close) => close()));
    // Last, once nothing can change a shadow any more.
    await store.flush();
  };
  try {
    const broker = await startMqttBroker({
      host,
      port: options.mqttPort ?? 0,
      ...(options.plainMqttPort !== undefined ? { plainPort: options.plainMqttPort } : {}),
      tls: { cert: server.certPem, key: server.keyPem, ca: ca.certPem },
      logger: logger.child({ component: 'mqtt' }),
      ...(options.devicePolicy ? { devicePolicy: options.devicePolicy } : {}),
      onPublish: (topic, payload) => {
        if (!shadows.handleMqtt(topic, payload) && !jobs.handleMqtt(topic, payload)) rule.handle(topic, payload);
      },
    });
    closers.push(() => broker.close());
    publishRaw = (topic, payload) => broker.publish(topic, payload);

    const dataPlane = await startDataPlane({
      host,
      port: options.dataPlanePort ?? 0,
      tls: { cert: server.certPem, key: server.keyPem },
      shadows,
      clock,
      logger: logger.child({ component: 'data-plane' }),
      ...(throttle ? { throttle } : {}),
    });
    closers.push(() => dataPlane.close());
    const controlPlane = await startControlPlane({ host, port: 0, tls: { cert: server.certPem, key: server.keyPem }, groups, logger: logger.child({ component: 'control-plane' }) });
    closers.push(() => controlPlane.close());

    const credentials = await startCredentialsProvider({
      host,
      port: options.credentialsPort ?? 0,
      tls: { cert: server.certPem, key: server.keyPem, ca: ca.certPem },
      roleAlias,
      credentials: options.credentials ?? DEFAULT_CREDENTIALS,
      clock,
      logger: logger.child({ component: 'credentials-provider' }),
    });
    closers.push(() => credentials.close());

    const agents = new Set<Agent>();
    closers.push(async () => {
      for (const agent of agents) agent.destroy();
    });
    const api = iotCoreApi({ host, roleAlias, ca, shadows, jobs, rule, broker, dataPlanePort: dataPlane.port, credentialsPort: credentials.port, agents, close: closeAll, controlPlanePort: controlPlane.port, groups, registered });
    logger.info('IoT Core stand-in listening', { mqtt: formatHostPort(host, broker.port), dataPlane: api.dataPlane.endpoint, credentials: formatHostPort(host, credentials.port) });
    return api;
  } catch (err) {
    await closeAll();
    throw err;
  }
}

interface Started {
  host: string;
  roleAlias: string;
  ca: CertificateAuthority;
  shadows: ShadowService;
  jobs: JobsService;
  rule: ButtonRule;
  broker: MqttBroker;
  dataPlanePort: number;
  credentialsPort: number;
  /** The data-plane clients' HTTPS agents, destroyed on close. */
  agents: Set<Agent>;
  close(): Promise<void>;
  controlPlanePort: number;
  groups: ThingGroups;
  /** Things with a certificate: what dynamic groups select from. */
  registered: Set<string>;
}

function iotCoreApi({ host, roleAlias, ca, shadows, jobs, rule, broker, dataPlanePort, credentialsPort, agents, close, controlPlanePort, groups, registered }: Started) {
  const hostPort = (port: number) => formatHostPort(host, port);
  const dataPlaneEndpoint = `https://${hostPort(dataPlanePort)}`;
  // Each client's own HTTPS agent trusts the sandbox CA and is destroyed on close.
  const sdkConfig = (endpoint: string) => {
    const agent = new Agent({ ca: ca.certPem, keepAlive: true });
    agents.add(agent);
    return { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' }, requestHandler: new NodeHttpHandler({ httpsAgent: agent }) };
  };
  return {
    mqtt: { host, port: broker.port, url: `mqtts://${hostPort(broker.port)}` },
    ...(broker.plainPort !== undefined ? { plainMqtt: { host, port: broker.plainPort, url: `mqtt://${hostPort(broker.plainPort)}` } } : {}),
    dataPlane: { endpoint: dataPlaneEndpoint, host, port: dataPlanePort },
    /** The control-plane API the object function lists thing groups with (ListThingsInThingGroup). */
    controlPlane: { endpoint: `https://${hostPort(controlPlanePort)}`, port: controlPlanePort },
    /** Static, dynamic (selecting from the things with a certificate) and nested thing groups. */
    groups,
    credentialsProvider: { host, port: credentialsPort, roleAlias, endpoint: `${hostPort(credentialsPort)}/role-aliases/${roleAlias}/credentials` },
    ca: { certPath: ca.certPath, certPem: ca.certPem },
    issueThing(name: string): ThingCertificate {
      registered.add(name);
      return ca.issueThing(name);
    },
    /**
     * Watches in process every message on topics matching an MQTT filter: devices' publishes and the
     * shadow service's responses, however the update came. Returns the stop; a throwing callback is
     * logged. Throws IOT_CORE_INVALID_NAME for a malformed filter, IOT_CORE_CLOSED after close().
     */
    observe: (topicFilter: string, onMessage: MqttObserver): (() => void) => broker.observe(topicFilter, onMessage),
    issueButton: (serial: string): ButtonCertificate => ca.issueButton(serial),
    /** The IoT Jobs stand-in (CreateJob in process; the device API over MQTT). */
    jobs,
    /** The shadows in process, with the same semantics and MQTT messages as the APIs. */
    shadows: {
      /** The `get/accepted` document, or undefined when the shadow does not exist. */
      get(thingName: string, shadowName?: string): JsonObject | undefined {
        const r = shadows.get(thingName, shadowName);
        return r.ok ? r.payload : undefined;
      },
      /** Publishes accepted/delta/documents as an MQTT update would. */
      update: (thingName: string, request: JsonObject, shadowName?: string): ShadowRequestResult => shadows.update(thingName, shadowName, JSON.stringify(request)),
      delete: (thingName: string, shadowName?: string): ShadowRequestResult => shadows.delete(thingName, shadowName),
      listNamed: (thingName: string): string[] => shadows.listNamedShadows(thingName),
    },
    createControlPlaneClient: () => new IoTClient(sdkConfig(`https://${hostPort(controlPlanePort)}`)),
    createDataPlaneClient: (clientOptions: { maxAttempts?: number } = {}) => new IoTDataPlaneClient({ ...clientOptions, ...sdkConfig(dataPlaneEndpoint) }),
    /** Resolves when every button rule action under way has finished. */
    buttonRuleIdle: (): Promise<void> => rule.idle(),
    /** Resolves when every message published so far reached every matching device and observer (or the broker closed). */
    messagesDelivered: (): Promise<void> => broker.delivered(),
    close,
  };
}

/** A data plane that answers 429 above `perSecond` requests a second (burst: a tenth of a second's worth). */
function rateLimit(perSecond: number): () => boolean {
  const bucket = new TokenBucket({ ratePerSecond: perSecond, burst: Math.max(1, perSecond / 10), clock: () => performance.now(), sleep: async () => {} });
  return () => bucket.tryTake();
}
