/** The direct-mode driver, a file of its own beside the button handler, loaded at the first click in direct mode. */
import type { ButtonConfig } from '../core/button/config';
import type { PlugDriver } from '../core/button/execute';
import type { NewerPlugs } from '../core/button/newer-plugs';
import { createTplinkDriver } from '../core/button/tplink-driver';

export function directDriver(config: ButtonConfig, newer: () => Promise<NewerPlugs>): PlugDriver {
  return createTplinkDriver({ connectTimeoutMs: config.connectTimeoutMs, requestTimeoutMs: config.requestTimeoutMs, newer });
}
