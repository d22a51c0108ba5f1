/**
 * The button Lambda behind the local `iotbutton/+` rule, configured through the stack's own
 * `buttonFunctionEnvironment`, switching every sandbox plug; its SNS outcome is a `notification` event.
 */
import { errorMessage } from '../core/errors';
import { buttonFunctionEnvironment, parseButtonConfig, type ButtonConfig, type ButtonSettings } from '../core/button/config';
import type { ButtonOutcome } from '../core/button/outcome';
import type { Publish } from '../core/button/sns-publish';
import { createHandler as createButtonHandler, type ButtonHandler } from '../lambda/button-click';
import { createRelayDriver, type RelayDriver } from '../core/button/relay-driver';
import type { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import type { ButtonRuleEvent } from './iot-core';
import { buttonOutcomeEvents, type Emit } from './narration';
import type { SandboxConfig } from './sandbox-config';
import { plugForTarget, type PlugConfig } from '../core/plug-relay/config';
import { plugShadowName } from '../core/plug-relay/contract';
import { fixedCredentials } from '../core/button/secret-credentials';

/** The topic the sandbox's function publishes to: nothing in AWS; its messages become `notification` events. */
export const SANDBOX_TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:shadowplug-sandbox-outcomes';

/** The relay driver, its shadow writes narrated: the button function's hop of the relay path. */
function narratedRelay(driver: RelayDriver, plugs: readonly PlugConfig[], emit: Emit): RelayDriver {
  return {
    ...driver,
    async write(target, on) {
      const plug = plugForTarget(plugs, target);
      if (plug) emit({ type: 'plug-desired', thing: plug.hub, shadowName: plugShadowName(plug.id), power: on ? 'on' : 'off' });
      return driver.write(target, on);
    },
  };
}

/** The function's settings: every sandbox plug configured once, and the button's targets by id. */
export function sandboxButtonConfig(config: SandboxConfig, plugs: readonly PlugConfig[]): ButtonConfig {
  const settings: ButtonSettings = {
    defaultTargets: plugs.map((p) => p.id),
    clickActions: config.clickActions,
    plugMode: config.plugMode,
    plugs: [...plugs],
    snsTopicArn: SANDBOX_TOPIC_ARN,
    ...(config.confirmTimeoutMs !== undefined ? { confirmTimeoutMs: config.confirmTimeoutMs } : {}),
  };
  return parseButtonConfig(buttonFunctionEnvironment(settings));
}

export function wireButtonLambda(
  config: SandboxConfig,
  /** The sandbox's plugs as configured (`plugConfigOf`). */
  plugs: readonly PlugConfig[],
  emit: Emit,
  /** The data-plane client (relay mode), asked for at the first click: IoT Core starts after this is wired. */
  dataPlane: () => IoTDataPlaneClient,
): { invoke: (event: ButtonRuleEvent, options?: { freshInstance?: boolean }) => Promise<ButtonOutcome>; onRule: (event: ButtonRuleEvent) => Promise<void> } {
  const buttonConfig = sandboxButtonConfig(config, plugs);
  const logger = config.logger.child({ fn: 'button-click' });
  const publish: Publish = async ({ topicArn, subject, message }) => emit({ type: 'notification', topicArn, subject, message });
  const newInstance = (): ButtonHandler =>
    createButtonHandler({
      config: buttonConfig,
      logger,
      publish,
      ...(buttonConfig.plugMode === 'relay'
        ? { driver: narratedRelay(createRelayDriver({ plugs: buttonConfig.plugs, iotData: dataPlane(), confirmTimeoutMs: buttonConfig.confirmTimeoutMs, confirmPollMs: 10, logger }), buttonConfig.plugs, emit) }
        : {}),
      // Direct mode: the sandbox's credentials, as the stack's secret would give them.
      ...(buttonConfig.plugMode === 'direct' ? { credentials: fixedCredentials(config.plugCredentials) } : {}),
    });
  let warm: ButtonHandler | undefined;
  // As the rule runs it (narrated), on the warm instance or a new one (a new container: its own memory and clients).
  const invoke = async (event: ButtonRuleEvent, options: { freshInstance?: boolean } = {}): Promise<ButtonOutcome> => {
    const handler = options.freshInstance ? newInstance() : (warm ??= newInstance());
    const serial = String(event.serialNumber ?? '?');
    emit({ type: 'click', serial, clickType: String(event.clickType ?? '?'), requestId: event.requestId });
    const outcome = await handler(event);
    for (const e of buttonOutcomeEvents(serial, outcome)) emit(e);
    return outcome;
  };
  return {
    invoke,
    // The rule action: never throws.
    async onRule(event) {
      try {
        await invoke(event);
      } catch (err) {
        emit({ type: 'click-failed', serial: String(event.serialNumber ?? '?'), message: errorMessage(err) });
      }
    },
  };
}
