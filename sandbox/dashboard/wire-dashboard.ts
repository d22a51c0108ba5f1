/** The dashboard as one more part of a sandbox: started once the sandbox is ready, closed first. */
import type { EventEmitter } from 'node:events';
import type { IotCore } from '../iot-core';
import { SHADOW_PROPERTY } from '../sandbox-config';
import type { SandboxInfo } from '../sandbox-info';
import type { Teardown } from '../teardown';
import { startDashboard } from './dashboard';

/** Starts the dashboard on 127.0.0.1:`port` and returns its URL. */
export async function startSandboxDashboard(port: number, info: SandboxInfo, events: EventEmitter, iot: IotCore, teardown: Teardown): Promise<string> {
  const dashboard = await startDashboard(
    { info, events, shadow: async (thing) => iot.shadows.get(thing), property: SHADOW_PROPERTY },
    { port, cwd: process.cwd() },
  );
  teardown.add('dashboard', () => dashboard.close());
  return dashboard.url;
}
