/**
 * The button Lambda behind the local `iotbutton/+` rule, configured as the stack configures it
 * (the same `buttonFunctionEnvironment(settings)`, parsed as at cold start), its clicks narrated.
 */
import { errorMessage } from '../core/errors';
import { buttonFunctionEnvironment, parseButtonConfig, type ButtonSettings } from '../core/button/config';
import { createHandler as createButtonHandler } from '../lambda/button-click';
import type { ButtonRuleEvent } from './iot-core';
import { buttonOutcomeEvents, type Emit } from './narration';
import type { SandboxConfig } from './sandbox-config';

/** The rule action: narrates the click, runs the handler, narrates what it did. Never throws. */
export function wireButtonLambda(config: SandboxConfig, plugAddress: { host: string; port: number }, emit: Emit): (event: ButtonRuleEvent) => Promise<void> {
  const settings: ButtonSettings = {
    defaultTargets: [`${plugAddress.host}:${plugAddress.port}`],
    clickActions: config.clickActions,
  };
  const handler = createButtonHandler({
    config: parseButtonConfig(buttonFunctionEnvironment(settings)),
    logger: config.logger.child({ fn: 'button-click' }),
  });
  return async (event) => {
    const serial = String(event.serialNumber ?? '?');
    emit({ type: 'click', serial, clickType: String(event.clickType ?? '?'), requestId: event.requestId });
    try {
      for (const e of buttonOutcomeEvents(serial, await handler(event))) emit(e);
    } catch (err) {
      emit({ type: 'click-failed', serial, message: errorMessage(err) });
    }
  };
}
