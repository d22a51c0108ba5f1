/**
 * The direct-mode driver (the TP-Link XOR client on TCP 9999; KLAP/AES plugs hand over to
 * `button-protocols.mjs`), bundled into its own file beside the handler (`button-direct.mjs`) and
 * imported at the first click in direct mode, so a relay-mode function never loads it.
 */
import type { ButtonConfig } from '../core/button/config';
import type { PlugDriver } from '../core/button/execute';
import type { NewerPlugs } from '../core/button/newer-plugs';
import { createTplinkDriver } from '../core/button/tplink-driver';

export function directDriver(config: ButtonConfig, newer: () => Promise<NewerPlugs>): PlugDriver {
  return createTplinkDriver({ connectTimeoutMs: config.connectTimeoutMs, requestTimeoutMs: config.requestTimeoutMs, newer });
}
