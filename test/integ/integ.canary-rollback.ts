/**
 * Canary: a broken candidate at 50 % is rolled back to 0 % by the controller once its alarms
 * fire; the probe prints how long that took. The same deployment settles what the endpoint's
 * `SageMaker Endpoint State Change` events look like (README, "Limits and unconfirmed behaviour").
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Candidate, InstanceType, ModelEndpoint } from '../../lib';
import { failingModel, Probe, recordEndpointStateChanges, settle, SteadyTraffic } from './support/kit';

const app = new App();
const stack = new Stack(app, 'IntegRolloutCanary', { stackName: 'integ-rollout-canary' });
const endpointName = 'integ-rollout-canary';

const endpoint = new ModelEndpoint(stack, 'Endpoint', {
  endpointName,
  production: { model: failingModel(stack, 'V1', { version: 'v1' }), instanceType: InstanceType.of('ml.m5.large'), instanceCount: 1 },
  candidate: Candidate.canary({ model: failingModel(stack, 'V2Broken', { version: 'v2', broken: true }), trafficPercent: 50 }),
  dashboard: false,
});
// 2 requests per second: the candidate's ~60 per minute are well above the alarms' low-traffic guard.
new SteadyTraffic(stack, 'Traffic', { endpointName, ratePerSecond: 2 });
const stateChanges = recordEndpointStateChanges(stack, endpointName);

const probe = new Probe(stack, 'Probe', { functionName: 'integ-rollout-canary-probe' });

const integ = new IntegTest(app, 'CanaryRollback', { testCases: [stack], stackUpdateWorkflow: false, diffAssets: false });
settle(integ.assertions, probe, {
  question: 'canaryRollback',
  endpointName,
  productionVariant: endpoint.productionVariantName,
  candidateVariant: endpoint.candidateVariantName,
  alarmNames: endpoint.rollbackAlarmNames,
}, Duration.minutes(30)).next(settle(integ.assertions, probe, {
  question: 'stateChangeEvents',
  endpointName,
  logGroupName: stateChanges.logGroupName,
}, Duration.minutes(10)));
