/**
 * UNCONFIRMED (README): whether guardrails work with a shadow variant, and whether adding a variant
 * is guarded at all. Each endpoint is updated through the API to a config whose new production
 * model is broken, under all-at-once guardrails with an alarm on that variant's model errors:
 *   - WithShadow:   production v1 + shadow v2  ->  broken v3 + the same shadow v2;
 *   - AddVariant:   production v1 alone        ->  production v1 + a new, broken "candidate" variant
 *                   (the alarm watches the candidate).
 * Outcomes per endpoint: "rolled-back" (guarded), "completed" (not guarded: the broken model
 * kept serving) or "refused" (SageMaker rejects guardrails for this change).
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Candidate, InstanceType, ModelEndpoint } from '../../lib';
import { failingModel, Probe, settle, SteadyTraffic, targetConfig, variantErrorAlarm } from './support/kit';

const app = new App();
const stack = new Stack(app, 'IntegRolloutShadowGuardrails', { stackName: 'integ-rollout-shadow-guardrails' });
const integ = new IntegTest(app, 'ShadowGuardrails', { testCases: [stack], stackUpdateWorkflow: false });
const m5 = InstanceType.of('ml.m5.large');

// WithShadow
const shadowName = 'integ-rollout-guardrails-shadow';
const bucket = new s3.Bucket(stack, 'Capture', { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true, enforceSSL: true });
const v2 = failingModel(stack, 'ShadowV2', { version: 'v2' });
const withShadow = new ModelEndpoint(stack, 'WithShadow', {
  endpointName: shadowName,
  production: { model: failingModel(stack, 'ShadowV1', { version: 'v1' }), instanceType: m5, instanceCount: 1 },
  candidate: Candidate.shadow({ model: v2, samplingPercent: 100 }),
  dataCapture: { samplingPercent: 10, bucket },
  dashboard: false,
});
const shadowTarget = targetConfig(stack, 'WithShadowV3Config', {
  variants: [{ variantName: withShadow.productionVariantName, model: failingModel(stack, 'ShadowV3Broken', { version: 'v3', broken: true }) }],
  shadowVariants: [{ variantName: withShadow.candidateVariantName!, model: v2 }],
});
const shadowAlarm = variantErrorAlarm(stack, 'WithShadowErrors', shadowName, withShadow.productionVariantName);
new SteadyTraffic(stack, 'WithShadowTraffic', { endpointName: shadowName, ratePerSecond: 2 });

// AddVariant
const addName = 'integ-rollout-guardrails-add-variant';
const v1 = failingModel(stack, 'AddV1', { version: 'v1' });
const single = new ModelEndpoint(stack, 'AddVariant', {
  endpointName: addName, production: { model: v1, instanceType: m5, instanceCount: 1 }, dashboard: false,
});
const addTarget = targetConfig(stack, 'AddVariantConfig', {
  variants: [
    { variantName: single.productionVariantName, model: v1 },
    { variantName: 'candidate', model: failingModel(stack, 'AddV2Broken', { version: 'v2', broken: true }) },
  ],
});
const addAlarm = variantErrorAlarm(stack, 'AddVariantErrors', addName, 'candidate');
new SteadyTraffic(stack, 'AddVariantTraffic', { endpointName: addName, ratePerSecond: 2 });

const probe = new Probe(stack, 'Probe', { functionName: 'integ-rollout-shadow-guardrails-probe' });
probe.grantEndpoint(shadowName);
probe.grantEndpoint(addName);
// Whoever SageMaker reads the alarms as (the caller or the models' shared role), it may: this case is about guarding.
const alarmArns = [shadowAlarm.alarmArn, addAlarm.alarmArn];
probe.grant(['cloudwatch:DescribeAlarms'], alarmArns);
v1.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: alarmArns }));
settle(integ.assertions, probe, {
  question: 'guardedUpdate', label: 'guardrails with a shadow variant',
  endpointName: shadowName, targetConfigName: shadowTarget.attrEndpointConfigName, alarmNames: [shadowAlarm.alarmName], bakeSeconds: 600,
}, Duration.minutes(45));
settle(integ.assertions, probe, {
  question: 'guardedUpdate', label: 'adding a variant under guardrails',
  endpointName: addName, targetConfigName: addTarget.attrEndpointConfigName, alarmNames: [addAlarm.alarmName], bakeSeconds: 600,
}, Duration.minutes(45));
