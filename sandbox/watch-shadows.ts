/**
 * Desired/reported transitions, seen in the shadow service's own `update/documents` messages and
 * watched in process (no socket, no listener without a client certificate), narrated by a
 * ShadowObserver. Subscribed before the seed from the stored shadows, so that no update can fall
 * between the two.
 */
import type { IotCore } from './iot-core';
import type { Emit } from './narration';
import { SHADOW_PROPERTY, type SandboxConfig } from './sandbox-config';
import { ShadowObserver } from './shadow-observer';
import type { Teardown } from './teardown';

const DOCUMENTS_TOPIC = /^\$aws\/things\/([^/]+)\/shadow\/update\/documents$/;

export function watchShadows(config: SandboxConfig, iot: IotCore, emit: Emit, teardown: Teardown): ShadowObserver {
  const observer = new ShadowObserver({ property: SHADOW_PROPERTY, emit });
  const stopObserving = iot.observe('$aws/things/+/shadow/update/documents', (topic, payload) => {
    const thing = DOCUMENTS_TOPIC.exec(topic)?.[1];
    if (thing === undefined) return;
    try {
      observer.documents(thing, JSON.parse(payload.toString('utf8')));
    } catch (err) {
      config.logger.warn('shadow observer: unreadable documents message', { topic, err });
    }
  });
  teardown.add('shadow observer', async () => stopObserving());
  for (const thing of config.things) {
    const doc = iot.shadows.get(thing);
    if (doc) observer.seed(thing, doc);
  }
  return observer;
}
