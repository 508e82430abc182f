/**
 * Autoscaling: a scaled fleet survives a deployment of a new model. Three steps, in order:
 *   1. V1        the endpoint on v1 with `production.autoScaling` (1 to 3 instances, no target:
 *                nothing scales it back by itself); its assertion scales production to 2 the way
 *                Application Auto Scaling does (UpdateEndpointWeightsAndCapacities);
 *   2. V2        deploys a healthy v2 over it (a new model, the same variant);
 *   3. Verify    v2 must answer, on the 2 instances the fleet had: DESIGN's "a deployment never
 *                shrinks a scaled fleet back to the template's initial count". A count of 1 keeps
 *                the probe waiting until the case times out, with both numbers in its last answer.
 */
import { IntegTest, IntegTestCaseStack } from '@aws-cdk/integ-tests-alpha';
import { App, Duration } from 'aws-cdk-lib';
import { InstanceType, ModelEndpoint } from '../../lib';
import { failingModel, Probe, settle } from './support/kit';

const app = new App();
const stackName = 'integ-rollout-autoscaling';
const endpointName = 'integ-rollout-autoscaling';
const scaledCount = 2;

function endpointStack(id: string, version: string): IntegTestCaseStack {
  const stack = new IntegTestCaseStack(app, id, { stackName, stackUpdateWorkflow: false, cdkCommandOptions: { destroy: { enabled: false } } });
  new ModelEndpoint(stack, 'Endpoint', {
    endpointName,
    production: {
      model: failingModel(stack, 'Model', { version }),
      instanceType: InstanceType.of('ml.m5.large'),
      instanceCount: 1,
      // A scalable target and no policy (no targetInvocationsPerInstance): nothing scales it back.
      autoScaling: { minInstanceCount: 1, maxInstanceCount: 3 },
    },
    dashboard: false,
  });
  return stack;
}

const v1 = endpointStack('V1', 'v1');
const scaler = new Probe(v1, 'Scaler', { functionName: 'integ-rollout-autoscaling-scaler' });
scaler.grant(['sagemaker:UpdateEndpointWeightsAndCapacities'], [v1.formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: endpointName })]);
const v2 = endpointStack('V2', 'v2');

const verify = new IntegTestCaseStack(app, 'Verify', { stackName: 'integ-rollout-autoscaling-verify', stackUpdateWorkflow: false });
const probe = new Probe(verify, 'Probe', { functionName: 'integ-rollout-autoscaling-probe' });
probe.grantEndpoint(endpointName);

new IntegTest(app, 'Autoscaling', { testCases: [v1, v2, verify], stackUpdateWorkflow: false });
// Each test case's own assertion stack (see integ.blue-green.ts).
settle(v1._testCase.assertions, scaler, { question: 'scaleTo', endpointName, variantName: 'production', count: scaledCount }, Duration.minutes(20));
settle(verify._testCase.assertions, probe, { question: 'fleetAfterDeploy', endpointName, variantName: 'production', newVersion: 'v2', scaledCount }, Duration.minutes(15));
