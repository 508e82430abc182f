import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { CfnEndpoint } from 'aws-cdk-lib/aws-sagemaker';
import { buildExampleApp } from '../../bin/example-app';

/** The context of cdk.json, so this test runs the validator exactly as `npx cdk synth` does. */
const CDK_CONTEXT = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf-8')).context;

describe('CDK\'s built-in CloudFormation validator, in strict mode', () => {
  test('cdk.json turns it on, with warnings as errors', () => {
    expect(CDK_CONTEXT['@aws-cdk/core:validateAgainstDefaultRules']).toBe(true);
    expect(CDK_CONTEXT['@aws-cdk/core:strictCfnValidateErrors']).toBe(true);
  });

  test('passes every stack of the example app', () => {
    const app = new App({ context: CDK_CONTEXT });
    const stacks = buildExampleApp(app);
    expect(stacks.map((s) => s.stackName)).toEqual(['SingleModelStack', 'BlueGreenStack', 'CanaryStack', 'ShadowStack']);
    expect(() => app.synth()).not.toThrow();
  });

  test('catches a broken template (proof that the gate can fail)', () => {
    const app = new App({ context: CDK_CONTEXT });
    const stack = new Stack(app, 'Broken');
    new CfnEndpoint(stack, 'Endpoint', {
      endpointConfigName: 'config',
      deploymentConfig: {
        // A bake outside SageMaker's 0-3600 seconds, and a routing type that does not exist.
        blueGreenUpdatePolicy: { terminationWaitInSeconds: 5000, trafficRoutingConfiguration: { type: 'SOMETIMES' } },
      },
    });
    expect(() => app.synth()).toThrow(/TerminationWaitInSeconds: 5000 is greater than the maximum of 3600/);
  });
});
