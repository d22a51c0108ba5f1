/**
 * The dashboard as one more part of a sandbox: started once the sandbox is ready, closed first.
 * It is an add-on: if it cannot start (its port is taken, its page cannot be prepared), the
 * sandbox runs without it and says why, rather than not at all.
 */
import type { EventEmitter } from 'node:events';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';
import type { Credentials } from '../../core/tplink/klap-crypto';
import type { IotCore } from '../iot-core';
import { SHADOW_PROPERTY } from '../sandbox-config';
import type { SandboxInfo } from '../sandbox-info';
import type { Teardown } from '../teardown';
import { startDashboard } from './dashboard';

const NAMED_SHADOW_TOPIC = /^\$aws\/things\/([^/]+)\/shadow\/name\/([^/]+)\/(update\/documents|delete\/accepted)$/;

/** Named shadows' documents from the shadow service's own messages (in process: no socket, no certificate). */
function watchNamedShadows(iot: IotCore, listener: (thing: string, shadowName: string, document: unknown) => void, logger: Logger): () => void {
  const onMessage = (topic: string, payload: Buffer) => {
    const m = NAMED_SHADOW_TOPIC.exec(topic);
    if (!m) return;
    try {
      const message: unknown = JSON.parse(payload.toString('utf8'));
      const current = m[3] === 'update/documents' && message !== null && typeof message === 'object' ? (message as { current?: unknown }).current : undefined;
      listener(m[1]!, m[2]!, current);
    } catch (err) {
      logger.warn('dashboard: unreadable named shadow message', { topic, err });
    }
  };
  const stops = [iot.observe('$aws/things/+/shadow/name/+/update/documents', onMessage), iot.observe('$aws/things/+/shadow/name/+/delete/accepted', onMessage)];
  return () => stops.forEach((stop) => stop());
}

/** Starts the dashboard on 127.0.0.1:`port` and returns its URL, or undefined (with a warning) when it cannot. */
export async function startSandboxDashboard(
  port: number,
  info: SandboxInfo,
  events: EventEmitter,
  iot: IotCore,
  teardown: Teardown,
  logger: Logger,
  plugCredentials?: Credentials,
): Promise<string | undefined> {
  try {
    const dashboard = await startDashboard(
      {
        info,
        events,
        shadow: async (thing) => iot.shadows.get(thing),
        namedShadow: async (thing, shadowName) => iot.shadows.get(thing, shadowName),
        watchNamedShadows: (listener) => watchNamedShadows(iot, listener, logger),
        property: SHADOW_PROPERTY,
        ...(plugCredentials !== undefined ? { plugCredentials } : {}),
      },
      { port, cwd: process.cwd() },
    );
    teardown.add('dashboard', () => dashboard.close());
    return dashboard.url;
  } catch (err) {
    logger.warn(`sandbox: running without the dashboard: ${errorMessage(err)}`, { err });
    return undefined;
  }
}
