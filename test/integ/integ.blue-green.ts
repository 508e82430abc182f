/**
 * Blue/green with a broken new model, driven by CloudFormation, in three steps that run in order:
 *   1. V1        deploys the endpoint on model v1 (kept for step 2);
 *   2. V2Broken  updates the same stack to a broken v2 under all-at-once guardrails with a bake;
 *                the deployment is expected to fail (SageMaker rolls back, then either
 *                CloudFormation fails the update or the post-deploy check does);
 *   3. Verify    the probe asks the endpoint (the old fleet must answer as v1) and reads the stack
 *                events to settle the README's UNCONFIRMED item "what CloudFormation does when
 *                SageMaker's guardrails roll an update back", with the time it took. Its teardown
 *                deletes every stack of this file.
 */
import { IntegTest, IntegTestCaseStack } from '@aws-cdk/integ-tests-alpha';
import { App, Duration } from 'aws-cdk-lib';
import { InstanceType, ModelEndpoint, TrafficShift } from '../../lib';
import { failingModel, Probe, settle, SteadyTraffic } from './support/kit';

const app = new App();
const stackName = 'integ-rollout-blue-green';
const endpointName = 'integ-rollout-blue-green';

function endpointStack(id: string, version: string, broken: boolean, expectError: boolean): IntegTestCaseStack {
  const stack = new IntegTestCaseStack(app, id, {
    stackName,
    stackUpdateWorkflow: false,
    cdkCommandOptions: { deploy: { expectError }, destroy: { enabled: false } },
  });
  // The same construct ids in both versions: CloudFormation updates the endpoint, it never replaces it.
  new ModelEndpoint(stack, 'Endpoint', {
    endpointName,
    production: { model: failingModel(stack, 'Model', { version, broken }), instanceType: InstanceType.of('ml.m5.large'), instanceCount: 1 },
    trafficShift: TrafficShift.allAtOnce({ bake: Duration.minutes(10) }),
    dashboard: false,
  });
  new SteadyTraffic(stack, 'Traffic', { endpointName, ratePerSecond: 2 });
  return stack;
}

const v1 = endpointStack('V1', 'v1', false, false);
const v2 = endpointStack('V2Broken', 'v2', true, true);

const verify = new IntegTestCaseStack(app, 'Verify', { stackName: 'integ-rollout-blue-green-verify', stackUpdateWorkflow: false });
const probe = new Probe(verify, 'Probe', { functionName: 'integ-rollout-blue-green-probe' });
probe.grantEndpoint(endpointName);

new IntegTest(app, 'BlueGreen', { testCases: [v1, v2, verify], stackUpdateWorkflow: false });
// `verify.assertions` would land in a stack of its own that the test case never deploys
// (integ-tests-alpha 2.245 gives an IntegTestCaseStack two DeployAssert stacks); the test case's
// own assertion stack is the one integ.json names.
settle(verify._testCase.assertions, probe, { question: 'blueGreen', endpointName, stackName, oldVersion: 'v1' }, Duration.minutes(10));
