/** The relay-mode driver, a file of its own beside the button handler, loaded at the first click in relay mode. */
import type { ButtonConfig } from '../core/button/config';
import type { PlugDriver } from '../core/button/execute';
import { createRelayDriver } from '../core/button/relay-driver';
import type { Logger } from '../core/logger';

export function relayDriver(config: ButtonConfig, logger: Logger): PlugDriver {
  return createRelayDriver({
    plugs: config.plugs,
    // The runtime provides the SDK: loaded at the first click, as the SNS client is.
    iotData: async () => {
      const { IoTDataPlaneClient } = await import('@aws-sdk/client-iot-data-plane');
      return new IoTDataPlaneClient(config.iotDataEndpoint ? { endpoint: config.iotDataEndpoint } : {});
    },
    confirmTimeoutMs: config.confirmTimeoutMs,
    logger,
  });
}
