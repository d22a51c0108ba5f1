/**
 * The relay-mode driver (plug shadows over the IoT data-plane API), bundled into its own file
 * beside the handler (`button-relay.mjs`) and imported at the first click in relay mode, so a
 * direct-mode function never loads it and a relay-mode cold start loads no TP-Link client.
 */
import type { ButtonConfig } from '../core/button/config';
import type { PlugDriver } from '../core/button/execute';
import { createRelayDriver } from '../core/button/relay-driver';
import type { Logger } from '../core/logger';

export function relayDriver(config: ButtonConfig, logger: Logger): PlugDriver {
  return createRelayDriver({
    plugs: config.plugs,
    // Loaded at the first click, as the SNS client is: the runtime provides the SDK.
    iotData: async () => {
      const { IoTDataPlaneClient } = await import('@aws-sdk/client-iot-data-plane');
      return new IoTDataPlaneClient(config.iotDataEndpoint ? { endpoint: config.iotDataEndpoint } : {});
    },
    confirmTimeoutMs: config.confirmTimeoutMs,
    logger,
  });
}
