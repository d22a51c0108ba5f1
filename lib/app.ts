/**
 * Builds the CDK app from context: parse and validate the settings, add the stack, run cdk-nag's
 * AWS Solutions checks during synthesis. Shared by bin/app.ts and the infra tests.
 */
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { checkContextKeys, isDocumentationAddress, parseStackSettings } from './context';
import { AwsLimitsChecks, ENVIRONMENT_CONTEXT_KEYS } from './limits/plugin';
import { ShadowplugStack } from './shadowplug-stack';

export const STACK_NAME = 'Shadowplug';

export function createApp(props: AppProps = {}): { app: App; stack: ShadowplugStack } {
  const app = new App(props);
  checkContextKeys(Object.keys(app.node.getAllContext()));
  const settings = parseStackSettings((key) => app.node.tryGetContext(key));
  const stack = new ShadowplugStack(app, STACK_NAME, {
    settings,
    description: 'shadowplug: IoT button → TP-Link plug, and S3 uploads → device shadows → verified downloads',
  });
  // The cdk.json placeholder synthesises (CI needs that) but would deploy a button that switches nothing
  // (unless defaultTargets names the plugs instead).
  if (isDocumentationAddress(settings.plugHost) && settings.defaultTargets === undefined) {
    Validations.of(stack).addWarning(
      'PlaceholderPlugHost',
      `plugHost ${settings.plugHost} is a documentation address (the cdk.json placeholder): deploy with -c plugHost=<your plug's address>`,
    );
  }
  // Zero unacknowledged findings: a finding fails the synth. So does a template AWS would refuse.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new AwsLimitsChecks({ environmentKeys: ENVIRONMENT_CONTEXT_KEYS }));
  return { app, stack };
}
