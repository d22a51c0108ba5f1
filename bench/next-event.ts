import type { Sandbox } from '../sandbox/sandbox';
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
