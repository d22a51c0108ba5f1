// CDK app entry (cdk.json "app"). The stack lives in lib/; bad context stops here with its key named.
import { createApp } from '../lib/app';
import { ContextError } from '../lib/errors';

try {
  createApp().app.synth();
} catch (err) {
  if (!(err instanceof ContextError)) throw err;
  console.error(`shadowplug: ${err.message}`);
  process.exitCode = 1;
}
