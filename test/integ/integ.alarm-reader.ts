/**
 * UNCONFIRMED (README): which principal SageMaker uses to read the rollback alarms. Two endpoints,
 * each updated to a broken v2 under all-at-once guardrails (the caller of UpdateEndpoint plays
 * the part CloudFormation's role plays in a deployment):
 *   - ModelRoleDenied:  the models' role (old and new share one) is explicitly denied
 *                       cloudwatch:DescribeAlarms; the caller may describe the alarm;
 *   - CallerDenied:     the models' role may describe the alarm; the caller may not.
 * An endpoint that rolls back could read its alarm. So: rolled back only with CallerDenied means
 * SageMaker reads as the model role; only with ModelRoleDenied, as the caller; both, as neither
 * (the service itself); "completed" or "refused" on a side means that side's permission is needed.
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { InstanceType, ModelEndpoint } from '../../lib';
import { failingModel, Probe, settle, SteadyTraffic, targetConfig, variantErrorAlarm } from './support/kit';

const app = new App();
const stack = new Stack(app, 'IntegRolloutAlarmReader', { stackName: 'integ-rollout-alarm-reader' });
const integ = new IntegTest(app, 'AlarmReader', { testCases: [stack], stackUpdateWorkflow: false });

for (const side of ['ModelRoleDenied', 'CallerDenied'] as const) {
  const endpointName = `integ-rollout-alarm-reader-${side === 'ModelRoleDenied' ? 'model' : 'caller'}`;
  // One role for the old and the new model, so "the model role" means the same whichever SageMaker uses.
  const role = new iam.Role(stack, `${side}ModelRole`, { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
  const endpoint = new ModelEndpoint(stack, `${side}Endpoint`, {
    endpointName,
    production: { model: failingModel(stack, `${side}V1`, { version: 'v1', role }), instanceType: InstanceType.of('ml.m5.large'), instanceCount: 1 },
    dashboard: false,
  });
  const alarm = variantErrorAlarm(stack, `${side}Errors`, endpointName, endpoint.productionVariantName);
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    effect: side === 'ModelRoleDenied' ? iam.Effect.DENY : iam.Effect.ALLOW,
    actions: ['cloudwatch:DescribeAlarms'],
    resources: side === 'ModelRoleDenied' ? ['*'] : [alarm.alarmArn],
  }));
  const target = targetConfig(stack, `${side}V2Config`, {
    variants: [{ variantName: endpoint.productionVariantName, model: failingModel(stack, `${side}V2`, { version: 'v2', broken: true, role }) }],
  });
  new SteadyTraffic(stack, `${side}Traffic`, { endpointName, ratePerSecond: 2 });
  const probe = new Probe(stack, `${side}Probe`, { functionName: `${endpointName}-probe` });
  probe.grantEndpoint(endpointName);
  if (side === 'ModelRoleDenied') probe.grant(['cloudwatch:DescribeAlarms'], [alarm.alarmArn]);
  settle(integ.assertions, probe, {
    question: 'guardedUpdate', label: side,
    endpointName, targetConfigName: target.attrEndpointConfigName, alarmNames: [alarm.alarmName], bakeSeconds: 600,
  }, Duration.minutes(45));
}
