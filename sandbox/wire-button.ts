/**
 * The button Lambda behind the local `iotbutton/+` rule, configured as the stack configures it
 * (the same `buttonFunctionEnvironment(settings)`, parsed as at cold start), its clicks narrated.
 */
import { errorMessage } from '../core/errors';
import { buttonFunctionEnvironment, parseButtonConfig, type ButtonSettings } from '../core/button/config';
import { createHandler as createButtonHandler } from '../lambda/button-click';
import { createRelayDriver } from '../core/button/relay-driver';
import type { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import type { ButtonRuleEvent } from './iot-core';
import { buttonOutcomeEvents, type Emit } from './narration';
import { sandboxPlugConfig, type SandboxConfig } from './sandbox-config';
import { plugShadowName } from '../core/plug-relay/contract';
import type { RelayDriver } from '../core/button/relay-driver';
import { fixedCredentials } from '../core/button/plug-credentials';

/** The relay driver, its shadow writes narrated: the button function's hop of the relay path. */
function narratedRelay(driver: RelayDriver, config: SandboxConfig, plugAddress: { host: string; port: number }, emit: Emit): RelayDriver {
  const plug = sandboxPlugConfig(config, plugAddress);
  return {
    ...driver,
    async write(target, on) {
      emit({ type: 'plug-desired', thing: plug.hub, shadowName: plugShadowName(plug.id), power: on ? 'on' : 'off' });
      return driver.write(target, on);
    },
  };
}

/** The rule action: narrates the click, runs the handler, narrates what it did. Never throws. */
export function wireButtonLambda(
  config: SandboxConfig,
  plugAddress: { host: string; port: number },
  emit: Emit,
  /** The data-plane client (relay mode), asked for at the first click: IoT Core starts after this is wired. */
  dataPlane: () => IoTDataPlaneClient,
): (event: ButtonRuleEvent) => Promise<void> {
  const settings: ButtonSettings = {
    defaultTargets: [`${plugAddress.host}:${plugAddress.port}`],
    clickActions: config.clickActions,
    plugMode: config.plugMode,
    ...(config.plugMode === 'relay' ? { plugs: [sandboxPlugConfig(config, plugAddress)] } : {}),
  };
  const buttonConfig = parseButtonConfig(buttonFunctionEnvironment(settings));
  const logger = config.logger.child({ fn: 'button-click' });
  let handler: ReturnType<typeof createButtonHandler> | undefined;
  const handlerNow = () =>
    (handler ??= createButtonHandler({
      config: buttonConfig,
      logger,
      ...(buttonConfig.plugMode === 'relay'
        ? { driver: narratedRelay(createRelayDriver({ plugs: buttonConfig.plugs, iotData: dataPlane(), confirmTimeoutMs: buttonConfig.confirmTimeoutMs, confirmPollMs: 10, logger }), config, plugAddress, emit) }
        : {}),
      // Direct mode: the sandbox's credentials, as the stack's secret would give them.
      ...(buttonConfig.plugMode === 'direct' && config.plugCredentials ? { credentials: fixedCredentials(config.plugCredentials) } : {}),
    }));
  return async (event) => {
    const serial = String(event.serialNumber ?? '?');
    emit({ type: 'click', serial, clickType: String(event.clickType ?? '?'), requestId: event.requestId });
    try {
      for (const e of buttonOutcomeEvents(serial, await handlerNow()(event))) emit(e);
    } catch (err) {
      emit({ type: 'click-failed', serial, message: errorMessage(err) });
    }
  };
}
