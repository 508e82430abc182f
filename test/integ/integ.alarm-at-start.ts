/**
 * UNCONFIRMED (README): what SageMaker does when a rollback alarm is already in ALARM as an update
 * starts, and how long its own rollbacks take. The endpoint runs v1; its rollback alarm watches a
 * metric nobody publishes with missing data treated as breaching, so it is in ALARM before the
 * update. The probe waits for that, then updates to a healthy v2 with all-at-once guardrails.
 * Outcomes: "rolled-back" (an alarm already firing rolls back: the seconds it took are the
 * rollback time), "completed" (only a change into ALARM during the bake counts), or "refused".
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { InstanceType, ModelEndpoint } from '../../lib';
import { failingModel, Probe, settle, targetConfig } from './support/kit';

const app = new App();
const stack = new Stack(app, 'IntegRolloutAlarmAtStart', { stackName: 'integ-rollout-alarm-at-start' });
const endpointName = 'integ-rollout-alarm-at-start';

const endpoint = new ModelEndpoint(stack, 'Endpoint', {
  endpointName,
  production: { model: failingModel(stack, 'V1', { version: 'v1' }), instanceType: InstanceType.of('ml.m5.large'), instanceCount: 1 },
  dashboard: false,
});
const firing = new cloudwatch.Alarm(stack, 'AlwaysFiring', {
  metric: new cloudwatch.Metric({ namespace: 'IntegRollout', metricName: 'NeverPublished', period: Duration.minutes(1) }),
  threshold: 1, evaluationPeriods: 1, treatMissingData: cloudwatch.TreatMissingData.BREACHING,
});
const v2 = failingModel(stack, 'V2', { version: 'v2' });
const target = targetConfig(stack, 'V2Config', { variants: [{ variantName: endpoint.productionVariantName, model: v2 }] });
// Whoever SageMaker reads the alarm as (the caller or the model role), it may: this case is about the alarm's state.
v2.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: [firing.alarmArn] }));
const probe = new Probe(stack, 'Probe', { functionName: 'integ-rollout-alarm-at-start-probe' });
probe.grantEndpoint(endpointName);
probe.grant(['cloudwatch:DescribeAlarms'], [firing.alarmArn]);

const integ = new IntegTest(app, 'AlarmAtStart', { testCases: [stack], stackUpdateWorkflow: false });
settle(integ.assertions, probe, {
  question: 'guardedUpdate', label: 'alarm already in ALARM at start',
  endpointName, targetConfigName: target.attrEndpointConfigName, alarmNames: [firing.alarmName],
  bakeSeconds: 600, startWhenAlarmIs: 'ALARM',
}, Duration.minutes(45));
