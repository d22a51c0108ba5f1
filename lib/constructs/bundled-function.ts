import { fileURLToPath } from 'node:url';
import { RemovalPolicy, Validations, type Duration } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing, type FunctionProps } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { lazyModuleFile } from '../lazy-modules';
import { bucketLogicalId } from './arns';

/** The repository root: NodejsFunction resolves entries and the lock file from here. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A bundled CommonJS dependency's `require('net')` needs a real `require`, which ESM lacks (aliased to avoid clashes). */
const REQUIRE_SHIM =
  "import { createRequire as __shadowplugCreateRequire } from 'node:module'; const require = __shadowplugCreateRequire(import.meta.url);";

export interface BundledFunctionProps {
  /** Entry file relative to the repository root, e.g. `lambda/button-click.ts`. */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  /** Active X-Ray tracing (CDK adds the xray:Put* permissions to the role). */
  readonly tracing?: boolean;
  readonly async?: Pick<FunctionProps, 'retryAttempts' | 'maxEventAge' | 'onFailure'>;
  /** Modules the handler imports on demand (lib/lazy-modules.ts): a cold start loads only what it needs. */
  readonly lazyModules?: readonly string[];
}

/** The esbuild command for one lazily loaded module, with the handler's own options (run after the handler is bundled). */
function lazyBundleCommand(inputDir: string, outputDir: string, entry: string): string {
  return [
    `"${inputDir}/node_modules/.bin/esbuild"`,
    `"${inputDir}/${entry}"`,
    '--bundle --platform=node --target=node22 --format=esm --minify --main-fields=module,main',
    `'--external:@aws-sdk/*'`,
    `"--outfile=${outputDir}/${lazyModuleFile(entry)}"`,
    '--log-level=warning',
  ].join(' ');
}

/**
 * One of our TypeScript handlers as a Lambda function: Node.js 22 on arm64 (cheaper per ms than
 * x86), bundled and minified by the local esbuild (no Docker), ESM output, the AWS SDK left to the
 * runtime, and its own log group so retention is set without the LogRetention custom resource.
 */
export class BundledFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: BundledFunctionProps) {
    super(scope, id);

    const logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Not the managed AWSLambdaBasicExecutionRole, which may write to every log group in the account.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    logGroup.grantWrite(this.role);

    const lazy = props.lazyModules ?? [];
    this.fn = new NodejsFunction(this, 'Function', {
      role: this.role,
      entry: `${PROJECT_ROOT}${props.entry}`,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      environment: props.environment,
      logGroup,
      ...(props.tracing ? { tracing: Tracing.ACTIVE } : {}),
      ...props.async,
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: false,
        // ESM entry points of dependencies first, so esbuild can tree-shake them.
        mainFields: ['module', 'main'],
        banner: REQUIRE_SHIM,
        // Provided by the Lambda runtime; bundling them would only grow the cold start. Lazy modules are files of their own.
        externalModules: ['@aws-sdk/*', ...lazy.map((entry) => `./${lazyModuleFile(entry)}`)],
        ...(lazy.length === 0
          ? {}
          : {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (inputDir: string, outputDir: string) => lazy.map((entry) => lazyBundleCommand(inputDir, outputDir, entry)),
              },
            }),
      },
    });
    if (props.tracing) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray (opt-in tracing): xray:PutTraceSegments and xray:PutTelemetryRecords have no resource type, so they can only be granted on *.',
      });
    }
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x, a Lambda-supported LTS: the project is built and tested on Node 20–22; moving to a newer runtime is a deliberate, tested change.',
    });
  }

  /**
   * Read any object under `prefix`, by version too (`reason` acknowledges the wildcard); and
   * ListBucket, without which S3 answers a deleted object 403, not 404 ("gone" vs "denied, retry").
   */
  grantObjectReads(bucket: IBucket, prefix: string, sid: string, reason: string): void {
    this.fn.addToRolePolicy(new PolicyStatement({ sid, actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [bucket.arnForObjects(`${prefix}*`)] }));
    this.fn.addToRolePolicy(new PolicyStatement({ sid: 'TellMissingFromDenied', actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
    Validations.of(this.role).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketLogicalId(bucket)}.Arn>/${prefix}*]`, reason });
  }
}
