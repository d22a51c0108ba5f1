// CDK app entry (cdk.json "app"). The stack lives in lib/.
import { App } from 'aws-cdk-lib';

const app = new App();
app.synth();
