/**
 * The button Lambda, behind the IoT topic rule on `iotbutton/+`. Thin: the work is in core/button;
 * this file wires the runtime's defaults. Each plug mode's driver, and the KLAP/AES part, is a file
 * of its own loaded on demand (lib/lazy-modules.ts): a cold start loads only what its clicks need.
 * Outside Lambda (tests, the sandbox, the CLI) importing this module has no side effect.
 */
import type { Context } from 'aws-lambda';
import { createLogger, type Logger } from '../core/logger';
import { parseButtonConfig, type ButtonConfig } from '../core/button/config';
import { lazyDriver, type PlugDriver } from '../core/button/execute';
import { createButtonService } from '../core/button/handle';
import type { ButtonOutcome } from '../core/button/outcome';
import { snsPublisher, type Publish } from '../core/button/sns-publish';
import type { PlugCredentialsSource } from '../core/button/secret-credentials';
import type { NewerPlugs } from '../core/button/newer-plugs';
import { BUTTON_METRICS, emfLine, SERVICES } from '../core/metrics/emf';

export interface ButtonHandlerDeps {
  config: ButtonConfig;
  /** How targets are read and switched (default: the plug shadows in relay mode, else TCP 9999 with the TP-Link client). */
  driver?: PlugDriver;
  /**
   * Direct mode: the TP-Link account credentials for KLAP and AES plugs (default: the configured
   * Secrets Manager secret, read when a plug first needs it; none configured: the devices' defaults).
   */
  credentials?: PlugCredentialsSource;
  /** Default: `@aws-sdk/client-sns`, loaded only if a topic is configured. */
  publish?: Publish;
  logger?: Logger;
  /** Epoch milliseconds. */
  clock?: () => number;
  /** Where the embedded-metric line goes (in Lambda: stdout, which goes to CloudWatch Logs). */
  writeMetrics?: (line: string) => void;
}

export type ButtonHandler = (event: unknown, context?: Pick<Context, 'awsRequestId'>) => Promise<ButtonOutcome>;

export function createHandler(deps: ButtonHandlerDeps): ButtonHandler {
  const { config } = deps;
  const logger = deps.logger ?? createLogger({ json: true, level: config.logLevel, fields: { service: SERVICES.button } });
  const clock = deps.clock ?? Date.now;
  const { writeMetrics } = deps;
  const driver =
    deps.driver ??
    lazyDriver(
      config.plugMode === 'relay'
        ? async () => (await import('./button-relay.mjs')).relayDriver(config, logger)
        : async () => (await import('./button-direct.mjs')).directDriver(config, () => newerPlugs(deps)),
    );
  const publish = deps.publish ?? (config.snsTopicArn === undefined ? undefined : snsPublisher());
  const service = createButtonService({ config, driver, logger, clock, publish });
  return async (event, context) => {
    const outcome = await service(event, context?.awsRequestId ? { awsRequestId: context.awsRequestId } : {});
    // The handler succeeds on a failed click by design (no retry), so Errors stays 0: count them instead.
    const count = (status: string) => outcome.clicks.filter((c) => c.status === status).length;
    writeMetrics?.(emfLine(SERVICES.button, { [BUTTON_METRICS.clicksFailed]: count('failed'), [BUTTON_METRICS.clicksSkipped]: count('skipped') }, clock()));
    return outcome;
  };
}

/** KLAP/AES plugs: their code and the credentials source live in a file of their own, loaded at the first such plug. */
async function newerPlugs(deps: ButtonHandlerDeps): Promise<NewerPlugs> {
  const { createNewerPlugs, secretCredentials } = await import('./button-protocols.mjs');
  const { config } = deps;
  const secretId = config.plugCredentialsSecret;
  const credentials = deps.credentials ?? (secretId === '' ? undefined : secretCredentials({ secretId }));
  return createNewerPlugs({ connectTimeoutMs: config.connectTimeoutMs, requestTimeoutMs: config.requestTimeoutMs, credentials });
}

const fromEnvironment = () => createHandler({ config: parseButtonConfig(process.env), writeMetrics: (line) => void process.stdout.write(line + '\n') });

// In Lambda, parse at init so a bad configuration fails the deployment's first cold start loudly.
let fromEnv: ButtonHandler | undefined = process.env.AWS_LAMBDA_FUNCTION_NAME === undefined ? undefined : fromEnvironment();

export const handler: ButtonHandler = (event, context) => (fromEnv ??= fromEnvironment())(event, context);
