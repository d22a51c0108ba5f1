/** Waiting for and timing the sandbox's events (sandbox-latency, plug-relay). */
import mqtt from 'mqtt';
import { classicButtonPayload } from '../core/button/click';
import type { Sandbox } from '../sandbox/sandbox';
import { buttonIdentity } from '../sandbox/sandbox-info';
import type { SandboxEvent } from '../sandbox/event-log';

/** The sandbox's next event that matches (listen before acting, so the event cannot be missed). */
export function nextEvent(sandbox: Sandbox, match: (e: SandboxEvent) => boolean): Promise<SandboxEvent> {
  return new Promise((resolve) => {
    const on = (e: SandboxEvent) => {
      if (!match(e)) return;
      sandbox.events.off('event', on);
      resolve(e);
    };
    sandbox.events.on('event', on);
  });
}

/**
 * Milliseconds from publishing each of `n` SINGLE clicks on `iotbutton/<serial>` until the plug
 * changed. One long-lived MQTT/TLS connection (not publishClick's connect-per-click): the latency
 * measured is the click's, not the TLS handshake's.
 */
export async function timeClicks(sandbox: Sandbox, n: number): Promise<number[]> {
  const info = sandbox.info;
  const button = await mqtt.connectAsync({ protocol: 'mqtts', ...buttonIdentity(info), reconnectPeriod: 0 });
  const payload = JSON.stringify(classicButtonPayload({ serial: info.button.serial, clickType: 'SINGLE' }));
  const times: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const changed = nextEvent(sandbox, (e) => e.type === 'plug');
      const done = nextEvent(sandbox, (e) => e.type === 'click-done' || e.type === 'click-failed');
      const t0 = performance.now();
      await button.publishAsync(info.buttonTopic, payload, { qos: 0 });
      await changed;
      times.push(performance.now() - t0);
      await done; // the handler has released the plug before the next click
    }
  } finally {
    await button.endAsync();
  }
  return times;
}
