import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Candidate, ModelEndpoint, RollbackAlarms, TrafficShift } from '../../lib';
import { modelV1, modelV2, newStack, only, statementsOfRole } from './util';

/** The endpoint's alarms (not the controller's dead-letter alarm). */
function alarmsOf(template: Template): Record<string, any> {
  const all = template.findResources('AWS::CloudWatch::Alarm');
  return Object.fromEntries(Object.entries(all).filter(([, a]) => !String(a.Properties.AlarmName).endsWith('controller-failed-events')));
}

function alarmBySuffix(template: Template, suffix: string): any {
  const found = Object.values(alarmsOf(template)).filter((a: any) => String(a.Properties.AlarmName).endsWith(suffix));
  if (found.length !== 1) throw new Error(`expected one alarm ending in ${suffix}, found ${found.length}`);
  return found[0].Properties;
}

function blueGreen(options = {}, stack: Stack = newStack(), bake = Duration.minutes(10)) {
  const endpoint = new ModelEndpoint(stack, 'E', {
    production: { model: modelV1(stack), instanceCount: 2 },
    rollbackAlarms: RollbackAlarms.recommended(options),
    trafficShift: TrafficShift.allAtOnce({ bake }),
  });
  return { stack, endpoint, template: Template.fromStack(stack) };
}

describe('recommended rollback alarms', () => {
  test('the 5xx rate: metric math in percent on Sums, 1 % threshold, 60 s periods, 2 of 3, missing data not breaching', () => {
    const { template } = blueGreen();
    const alarm = alarmBySuffix(template, '-production-5xx-error-rate');
    expect(alarm).toEqual(expect.objectContaining({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
    }));
    const expression = alarm.Metrics.find((m: any) => m.Expression);
    expect(expression.Expression).toBe('IF(invocations_production >= 20 OR errors_production >= 5, 100 * errors_production / invocations_production, 0)');
    const errors = alarm.Metrics.find((m: any) => m.Id === 'errors_production').MetricStat;
    expect(errors).toEqual(expect.objectContaining({ Stat: 'Sum', Period: 60 }));
    expect(errors.Metric.MetricName).toBe('Invocation5XXErrors');
    const invocations = alarm.Metrics.find((m: any) => m.Id === 'invocations_production').MetricStat;
    expect(invocations).toEqual(expect.objectContaining({ Stat: 'Sum', Period: 60 }));
    expect(invocations.Metric.MetricName).toBe('Invocations');
  });

  test('the model-error rate is a separate alarm, never added to the 5xx rate', () => {
    const { template } = blueGreen({ maxErrorRatePercent: 2, maxModelErrorRatePercent: 0.5 });
    expect(alarmBySuffix(template, '-5xx-error-rate').Threshold).toBe(2);
    const model = alarmBySuffix(template, '-model-error-rate');
    expect(model.Threshold).toBe(0.5);
    expect(model.Metrics.find((m: any) => m.Id === 'errors_production').MetricStat.Metric.MetricName).toBe('InvocationModelErrors');
    for (const alarm of Object.values(alarmsOf(template)) as any[]) {
      const names = alarm.Properties.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric.MetricName);
      expect(names.filter((n: string) => n !== 'Invocations').length).toBeLessThanOrEqual(1);
    }
  });

  test('a latency alarm only with maxLatency: 250 ms is 250000 microseconds, p99 by default', () => {
    expect(Object.keys(alarmsOf(blueGreen().template))).toHaveLength(2);
    const { template } = blueGreen({ maxLatency: Duration.millis(250) });
    const latency = alarmBySuffix(template, '-model-latency');
    expect(latency.Threshold).toBe(250_000);
    const stat = latency.Metrics.find((m: any) => m.Id === 'latency').MetricStat;
    expect(stat).toEqual(expect.objectContaining({ Stat: 'p99', Period: 60 }));
    expect(stat.Metric.MetricName).toBe('ModelLatency');
    // Under 20 requests a period, the fastest request is judged (README, "Rollback alarms"; behaviour in detection.test.ts).
    expect(latency.Metrics.find((m: any) => m.Expression).Expression).toBe('IF(invocations >= 20, latency, fastest)');
    expect(latency.Metrics.find((m: any) => m.Id === 'fastest').MetricStat).toEqual(expect.objectContaining({ Stat: 'Minimum', Period: 60 }));
  });

  test('latency statistic, periods, M of N and the low-traffic guard are configurable', () => {
    const options = { maxLatency: Duration.seconds(1), latencyStatistic: 'p90', period: Duration.minutes(5), evaluationPeriods: 4, datapointsToAlarm: 3, minInvocations: 100, minErrors: 10 };
    // 3 of 4 periods of 5 minutes: 300 x (3 + 1) + 60 = 1260 seconds to detect; the bake must be at least that long.
    const { template } = blueGreen(options, newStack(), Duration.minutes(21));
    const latency = alarmBySuffix(template, '-model-latency');
    expect(latency).toEqual(expect.objectContaining({ Threshold: 1_000_000, EvaluationPeriods: 4, DatapointsToAlarm: 3 }));
    expect(latency.Metrics.find((m: any) => m.Id === 'latency').MetricStat).toEqual(expect.objectContaining({ Stat: 'p90', Period: 300 }));
    expect(alarmBySuffix(template, '-5xx-error-rate').Metrics.find((m: any) => m.Expression).Expression)
      .toBe('IF(invocations_production >= 100 OR errors_production >= 10, 100 * errors_production / invocations_production, 0)');
  });

  test('blue/green alarms watch the new fleet only: dimension EndpointConfigName of the config being deployed', () => {
    const { template, endpoint } = blueGreen();
    const dims = alarmBySuffix(template, '-5xx-error-rate').Metrics.find((m: any) => m.Id === 'errors_production').MetricStat.Metric.Dimensions;
    const configId = only(template, 'AWS::SageMaker::EndpointConfig').id;
    expect(dims).toHaveLength(3);
    expect(dims).toEqual(expect.arrayContaining([
      { Name: 'EndpointName', Value: endpoint.endpointName },
      { Name: 'VariantName', Value: 'production' },
      { Name: 'EndpointConfigName', Value: { 'Fn::GetAtt': [configId, 'EndpointConfigName'] } },
    ]));
  });

  test('canary alarms watch the candidate variant at any time (no EndpointConfigName)', () => {
    const stack = newStack();
    const endpoint = new ModelEndpoint(stack, 'E', {
      production: { model: modelV1(stack), instanceCount: 2 },
      candidate: Candidate.canary({ model: modelV2(stack), trafficPercent: 10 }),
    });
    const template = Template.fromStack(stack);
    const dims = alarmBySuffix(template, '-candidate-5xx-error-rate').Metrics.find((m: any) => m.Id === 'errors_candidate').MetricStat.Metric.Dimensions;
    expect(dims).toEqual(expect.arrayContaining([{ Name: 'EndpointName', Value: endpoint.endpointName }, { Name: 'VariantName', Value: 'candidate' }]));
    expect(dims).toHaveLength(2);
    expect(endpoint.rollbackAlarms).toHaveLength(2);
  });

  test('alarm names are deterministic, start with the stack prefix, and fit in 255 characters', () => {
    const { endpoint } = blueGreen({ maxLatency: Duration.millis(100) });
    expect(endpoint.rollbackAlarmNames).toEqual([
      `TestStack-rollout-${endpoint.endpointName}-production-5xx-error-rate`,
      `TestStack-rollout-${endpoint.endpointName}-production-model-error-rate`,
      `TestStack-rollout-${endpoint.endpointName}-production-model-latency`,
    ]);
    const stack = newStack('S'.repeat(128));
    const long = new ModelEndpoint(stack, 'E', { endpointName: 'e'.repeat(63), production: { model: modelV1(stack), variantName: 'v'.repeat(63) } });
    for (const name of long.rollbackAlarmNames) expect(name.length).toBeLessThanOrEqual(255);
  });

  test('every model role may describe the rollback alarms (the library\'s by name prefix, yours by ARN)', () => {
    const stack = newStack();
    const mine = new cloudwatch.Alarm(stack, 'Business', { metric: new cloudwatch.Metric({ namespace: 'Shop', metricName: 'Orders' }), threshold: 1, evaluationPeriods: 1 });
    new ModelEndpoint(stack, 'E', {
      production: { model: modelV1(stack) },
      rollbackAlarms: RollbackAlarms.combine(RollbackAlarms.recommended(), RollbackAlarms.fromAlarms([mine])),
    });
    const template = Template.fromStack(stack);
    const describe = statementsOfRole(template, 'SageMakerModelExecutionRole').find((s) => s.Action === 'cloudwatch:DescribeAlarms');
    expect(describe.Resource).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:TestStack-rollout-*' },
      { 'Fn::GetAtt': [expect.stringMatching(/^Business/), 'Arn'] },
    ]);
    const names = only(template, 'AWS::SageMaker::Endpoint').resource.Properties.DeploymentConfig.AutoRollbackConfiguration.Alarms;
    expect(names).toHaveLength(3);
    expect(names[2]).toEqual({ AlarmName: { Ref: expect.stringMatching(/^Business/) } });
  });

  test('blue/green alarms tell the notification topic themselves', () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Topic');
    new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack) }, notificationTopic: topic });
    for (const alarm of Object.values(alarmsOf(Template.fromStack(stack))) as any[]) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Topic/) }]);
    }
  });

  test('none() opts out with a warning, and AutoRollbackConfiguration is left out', () => {
    const stack = newStack();
    new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack) }, rollbackAlarms: RollbackAlarms.none(), trafficShift: undefined });
    const template = Template.fromStack(stack);
    expect(Object.keys(alarmsOf(template))).toHaveLength(0);
    expect(only(template, 'AWS::SageMaker::Endpoint').resource.Properties.DeploymentConfig.AutoRollbackConfiguration).toBeUndefined();
    Annotations.fromStack(stack).hasWarning('/TestStack/E/RollbackAlarms', Match.stringLikeRegexp('has no rollback alarms: SageMaker bakes without watching anything'));
  });

  test('a custom alarm\'s slower detection lengthens the minimum of an explicit bake', () => {
    const stack = newStack();
    const slow = new cloudwatch.Alarm(stack, 'Slow', { metric: new cloudwatch.Metric({ namespace: 'Shop', metricName: 'Orders', period: Duration.minutes(5) }), threshold: 1, evaluationPeriods: 3 });
    expect(() => new ModelEndpoint(stack, 'E', {
      production: { model: modelV1(stack) },
      rollbackAlarms: RollbackAlarms.combine(RollbackAlarms.recommended(), RollbackAlarms.fromAlarms([slow])),
      trafficShift: TrafficShift.allAtOnce({ bake: Duration.minutes(10) }),
    })).toThrow('trafficShift.bake of 600 seconds is shorter than the 1260 seconds the slowest rollback alarm needs to fire');
  });
});

describe('recommended alarm options are checked', () => {
  test.each<[string, () => unknown, string]>([
    ['an error rate above 100 %', () => RollbackAlarms.recommended({ maxErrorRatePercent: 150 }), 'rollbackAlarms.maxErrorRatePercent must be between 0 and 100, got 150'],
    ['zero evaluation periods', () => RollbackAlarms.recommended({ evaluationPeriods: 0 }), 'rollbackAlarms.evaluationPeriods must be a whole number between 1 and 10, got 0'],
    ['more datapoints than periods', () => RollbackAlarms.recommended({ datapointsToAlarm: 4 }), 'rollbackAlarms.datapointsToAlarm must be a whole number between 1 and 3, got 4'],
    ['a 90-second period', () => RollbackAlarms.recommended({ period: Duration.seconds(90) }),
      'rollbackAlarms.period must be a whole number of minutes that divides an hour (1, 2, 3, 4, 5, 10, 15, 20, 30 or 60), got 1 minute 30 seconds'],
    ['a latency statistic that does not exist', () => RollbackAlarms.recommended({ latencyStatistic: 'median' }),
      'rollbackAlarms.latencyStatistic must be Average, Minimum, Maximum or a percentile such as p99, got "median"'],
    ['a latency below a millisecond', () => RollbackAlarms.recommended({ maxLatency: Duration.millis(0) }), 'rollbackAlarms.maxLatency must be at least 1 millisecond, got 0 millis'],
  ])('%s', (_name, build, message) => {
    expect(build).toThrow(message);
  });
});

describe('metric helpers', () => {
  test('per-variant metrics share one definition with the alarms', () => {
    const stack = newStack();
    const endpoint = new ModelEndpoint(stack, 'E', { production: { model: modelV1(stack) } });
    const dims = { EndpointName: endpoint.endpointName, VariantName: 'production' };
    expect(endpoint.metricInvocations('production')).toEqual(expect.objectContaining({ metricName: 'Invocations', namespace: 'AWS/SageMaker', statistic: 'Sum', dimensions: dims }));
    expect(endpoint.metricInvocation5xxErrors('production').metricName).toBe('Invocation5XXErrors');
    expect(endpoint.metricInvocation4xxErrors('production').metricName).toBe('Invocation4XXErrors');
    // The names that split badly in Python stay, deprecated, and give the same metrics.
    expect(endpoint.metricInvocation5XXErrors('production')).toEqual(endpoint.metricInvocation5xxErrors('production'));
    expect(endpoint.metricInvocation4XXErrors('production')).toEqual(endpoint.metricInvocation4xxErrors('production'));
    expect(endpoint.metricModelErrors('production').metricName).toBe('InvocationModelErrors');
    expect(endpoint.metricModelLatency('production')).toEqual(expect.objectContaining({ metricName: 'ModelLatency', statistic: 'p99' }));
    expect(endpoint.metricModelLatency('production', { statistic: 'p50' }).statistic).toBe('p50');
    expect(endpoint.metricOverheadLatency('production').metricName).toBe('OverheadLatency');
    expect(endpoint.metricErrorRate('production').expression).toBe('IF(invocations_production >= 0 OR errors_production >= 0, 100 * errors_production / invocations_production, 0)');
  });
});
