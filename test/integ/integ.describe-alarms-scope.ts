/**
 * UNCONFIRMED (README): does `cloudwatch:DescribeAlarms` accept alarm ARNs as resources? The
 * probe's role may call DescribeAlarms only on two alarms' ARNs, the way the library grants it;
 * the probe then asks for those alarms. Either it gets them (alarm-scoped grants work) or AWS
 * answers AccessDenied (a grant on "*" is needed). No endpoint: this case costs nothing.
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Probe, settle } from './support/kit';

const app = new App();
const stack = new Stack(app, 'IntegRolloutDescribeAlarms', { stackName: 'integ-rollout-describe-alarms' });
const alarms = ['first', 'second'].map((name) => new cloudwatch.Alarm(stack, `Alarm-${name}`, {
  alarmName: `integ-rollout-describe-alarms-${name}`,
  metric: new cloudwatch.Metric({ namespace: 'IntegRollout', metricName: 'Nothing', period: Duration.minutes(1) }),
  threshold: 1,
  evaluationPeriods: 1,
  treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
}));
const probe = new Probe(stack, 'Probe', { functionName: 'integ-rollout-describe-alarms-probe' });
probe.grant(['cloudwatch:DescribeAlarms'], alarms.map((a) => a.alarmArn));

const integ = new IntegTest(app, 'DescribeAlarmsScope', { testCases: [stack], stackUpdateWorkflow: false });
settle(integ.assertions, probe, { question: 'describeAlarmsScope', alarmNames: alarms.map((a) => a.alarmName) }, Duration.minutes(3));
