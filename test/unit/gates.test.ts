import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { CanaryPromotion, Candidate, Detection, ErrorKind, ModelEndpoint, RollbackAlarms } from '../../lib';
import { alarmNamed, healthy, requests, Second, simulate, Traffic } from '../support/metric-math';
import { modelV1, modelV2, newStack, only } from './util';

/**
 * Relative and quality gates: canary alarms that compare the candidate with production over the
 * same periods, judged on synthetic traffic by the test evaluator.
 */

const PREFIX = 'TestStack-rollout-recommender-candidate-';

function canary(rollbackAlarms: RollbackAlarms, promotion?: CanaryPromotion) {
  const stack = newStack();
  const endpoint = new ModelEndpoint(stack, 'E', {
    endpointName: 'recommender',
    production: { model: modelV1(stack), instanceCount: 2 },
    candidate: Candidate.canary({ model: modelV2(stack), trafficPercent: 10, promotion }),
    rollbackAlarms,
  });
  return { stack, endpoint, template: Template.fromStack(stack) };
}

/** Production and candidate traffic, each given as what one of its seconds looks like. */
function variants(production: (second: number) => Second, candidate: (second: number) => Second): Traffic {
  return (variant, second) => (variant === 'candidate' ? candidate(second) : production(second));
}

/** `rps` requests a second of which `failPercent` % fail with a model error (and a 5xx). */
function failing(rps: number, failPercent: number, latencyMs = 50) {
  return (second: number): Second => ({
    requests: Array.from({ length: rps }, (_, i) => ((second * rps + i) % 100 < failPercent
      ? { modelError: true, error5xx: true, latencyMicros: latencyMs * 1000 }
      : { latencyMicros: latencyMs * 1000 })),
  });
}

describe('RollbackAlarms.relative', () => {
  const relative = () => canary(RollbackAlarms.relative({ maxErrorRateIncreasePoints: 1, maxLatencyIncreasePercent: 25, minInvocations: 100 }));
  const errorAlarm = (t: Template) => alarmNamed(t, `${PREFIX}relative-InvocationModelErrors-rate`);
  const latencyAlarm = (t: Template) => alarmNamed(t, `${PREFIX}relative-latency-p99`);

  test('two metric-math alarms over both variants, named after the stack prefix, listed as rollback alarms', () => {
    const { template, endpoint } = relative();
    expect(endpoint.rollbackAlarmNames).toEqual([`${PREFIX}relative-InvocationModelErrors-rate`, `${PREFIX}relative-latency-p99`]);
    const variantsSeen = errorAlarm(template).Metrics.filter((m: any) => m.MetricStat)
      .map((m: any) => `${m.MetricStat.Metric.MetricName}/${m.MetricStat.Metric.Dimensions.find((d: any) => d.Name === 'VariantName').Value}`);
    expect(variantsSeen.sort()).toEqual(['InvocationModelErrors/candidate', 'InvocationModelErrors/production', 'Invocations/candidate', 'Invocations/production']);
    expect(errorAlarm(template)).toEqual(expect.objectContaining({ Threshold: 1, EvaluationPeriods: 3, DatapointsToAlarm: 2, TreatMissingData: 'notBreaching' }));
    expect(latencyAlarm(template).Threshold).toBe(25);
    expect(only(template, 'AWS::SageMaker::Endpoint').resource.Properties.DeploymentConfig.AutoRollbackConfiguration.Alarms.map((a: any) => a.AlarmName))
      .toEqual(endpoint.rollbackAlarmNames);
  });

  test('fires when only the candidate degrades', () => {
    const { template } = relative();
    expect(simulate(errorAlarm(template), variants(failing(20, 0), failing(5, 5)), 900).firstAlarmAt).toBeLessThanOrEqual(240);
    expect(simulate(latencyAlarm(template), variants(failing(20, 0, 100), failing(5, 0, 200)), 900).firstAlarmAt).toBeLessThanOrEqual(240);
  });

  test('stays quiet when both variants degrade together (a downstream outage), and within the tolerance', () => {
    const { template } = relative();
    expect(simulate(errorAlarm(template), variants(failing(20, 30), failing(5, 30)), 900).firstAlarmAt).toBeUndefined();
    expect(simulate(latencyAlarm(template), variants(failing(20, 0, 400), failing(5, 0, 400)), 900).firstAlarmAt).toBeUndefined();
    // 1 point more than production: not more than 1 point.
    expect(simulate(errorAlarm(template), variants(failing(20, 2), failing(5, 3)), 900).firstAlarmAt).toBeUndefined();
    expect(simulate(latencyAlarm(template), variants(failing(20, 0, 100), failing(5, 0, 120)), 900).firstAlarmAt).toBeUndefined();
  });

  test('stays quiet under the minimum traffic of either variant', () => {
    const { template } = relative();
    // 60 candidate requests a minute, fewer than the 100 each variant needs: no comparison.
    expect(simulate(errorAlarm(template), variants(failing(20, 0), failing(1, 100)), 900).firstAlarmAt).toBeUndefined();
    expect(simulate(latencyAlarm(template), variants(failing(1, 0, 100), failing(20, 0, 900)), 900).firstAlarmAt).toBeUndefined();
  });

  test('two relative sets do not clash on alarm names or construct ids', () => {
    const { endpoint, template } = canary(RollbackAlarms.combine(
      RollbackAlarms.relative({ maxErrorRateIncreasePoints: 1 }),
      RollbackAlarms.relative({ maxErrorRateIncreasePoints: 5, errorKind: ErrorKind.SERVER_5XX }),
      RollbackAlarms.combine(RollbackAlarms.relative({ maxErrorRateIncreasePoints: 1 })),
    ));
    expect(endpoint.rollbackAlarmNames).toEqual([
      `${PREFIX}relative-InvocationModelErrors-rate`,
      `${PREFIX}relative-Invocation5XXErrors-rate`,
      `${PREFIX}relative-InvocationModelErrors-rate-2`,
    ]);
    expect(alarmNamed(template, `${PREFIX}relative-Invocation5XXErrors-rate`).Threshold).toBe(5);
  });

  test('refused on a shadow, and on an endpoint without a second live variant, saying why', () => {
    const shadowStack = newStack();
    expect(() => new ModelEndpoint(shadowStack, 'E', {
      production: { model: modelV1(shadowStack) },
      candidate: Candidate.shadow({ model: modelV2(shadowStack), alarms: RollbackAlarms.relative() }),
    })).toThrow('TestStack/E: RollbackAlarms.relative needs a canary candidate: a shadow\'s answers never reach users, so there is no live outcome to compare with production '
      + '(compare a shadow with "npx cdk-sagemaker-rollout compare"; put the gate on a Candidate.canary)');
    const single = newStack();
    expect(() => new ModelEndpoint(single, 'E', { production: { model: modelV1(single) }, rollbackAlarms: RollbackAlarms.relative() }))
      .toThrow('TestStack/E: RollbackAlarms.relative needs a second live variant to compare with production at the same time, and this endpoint has only its production variant '
        + '(a blue/green update replaces the whole fleet): add a canary candidate (Candidate.canary), or use RollbackAlarms.recommended');
  });

  test.each<[string, () => unknown, string]>([
    ['an increase above 100 points', () => RollbackAlarms.relative({ maxErrorRateIncreasePoints: 150 }), 'rollbackAlarms.relative.maxErrorRateIncreasePoints must be between 0 and 100, got 150'],
    ['a 90-second period', () => RollbackAlarms.relative({ period: Duration.seconds(90) }),
      'rollbackAlarms.relative.period must be a whole number of minutes that divides an hour (1, 2, 3, 4, 5, 10, 15, 20, 30 or 60), got 1 minute 30 seconds'],
    ['a negative increase', () => RollbackAlarms.relative({ maxErrorRateIncreasePoints: -1 }), 'rollbackAlarms.relative.maxErrorRateIncreasePoints must be between 0 and 100, got -1'],
    ['a latency increase of 0 %', () => RollbackAlarms.relative({ maxLatencyIncreasePercent: 0 }), 'rollbackAlarms.relative.maxLatencyIncreasePercent must be between 1 and 1000, got 0'],
    ['no minimum traffic', () => RollbackAlarms.relative({ minInvocations: 0 }), 'rollbackAlarms.relative.minInvocations must be a whole number of at least 1, got 0'],
  ])('%s', (_name, build, message) => {
    expect(build).toThrow(message);
  });
});

describe('RollbackAlarms.quality', () => {
  const CTR = { metricNamespace: 'Recommender', metricName: 'ClickThrough', higherIsBetter: true, maxDropPercent: 10, minSamples: 200 };
  const NAME = `${PREFIX}quality-Recommender-ClickThrough-Average`;
  /** Quality samples at `perSecond` a second, every one `value`, with healthy requests. */
  const quality = (perSecond: number, value: number) => (_second: number): Second => ({ ...healthy(perSecond), quality: Array.from({ length: perSecond }, () => value) });

  test('a metric-math alarm on your metric, with exactly the EndpointName and VariantName dimensions, for both variants', () => {
    const { template, endpoint } = canary(RollbackAlarms.quality({ ...CTR, period: Duration.minutes(5) }));
    expect(endpoint.rollbackAlarmNames).toEqual([NAME]);
    const alarm = alarmNamed(template, NAME);
    const stats = alarm.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat);
    for (const s of stats) {
      expect(s.Metric.Namespace).toBe('Recommender');
      expect(s.Metric.MetricName).toBe('ClickThrough');
      expect(s.Metric.Dimensions.map((d: any) => d.Name)).toEqual(['EndpointName', 'VariantName']);
      expect(s.Period).toBe(300);
    }
    expect(stats.map((s: any) => `${s.Stat}/${s.Metric.Dimensions[1].Value}`).sort()).toEqual(['Average/candidate', 'Average/production', 'SampleCount/candidate', 'SampleCount/production']);
    expect(alarm).toEqual(expect.objectContaining({ Threshold: 10, TreatMissingData: 'notBreaching' }));
  });

  test('higher is better: fires on a drop beyond the tolerance, not within it, and not when the candidate is better', () => {
    const alarm = alarmNamed(canary(RollbackAlarms.quality(CTR)).template, NAME);
    const run = (candidate: number) => simulate(alarm, variants(quality(5, 0.10), quality(1, candidate)), 3600).firstAlarmAt;
    expect(run(0.085)).toBeLessThanOrEqual(960); // 15 % worse
    expect(run(0.095)).toBeUndefined(); // 5 % worse
    expect(run(0.0905)).toBeUndefined(); // 9.5 % worse
    expect(run(0.12)).toBeUndefined(); // better
  });

  test('lower is better: "worse by" is relative to production in that direction', () => {
    const alarm = alarmNamed(canary(RollbackAlarms.quality({ ...CTR, metricName: 'Loss', higherIsBetter: false })).template, `${PREFIX}quality-Recommender-Loss-Average`);
    const run = (candidate: number) => simulate(alarm, variants(quality(5, 0.10), quality(1, candidate)), 3600).firstAlarmAt;
    expect(run(0.12)).toBeLessThanOrEqual(960); // 20 % worse
    expect(run(0.105)).toBeUndefined(); // 5 % worse
    expect(run(0.05)).toBeUndefined(); // better
  });

  test('stays quiet under the minimum samples of either variant', () => {
    const alarm = alarmNamed(canary(RollbackAlarms.quality(CTR)).template, NAME);
    // 150 candidate samples per 5 minutes, fewer than 200: a much worse candidate is not judged yet.
    const sparse = (second: number): Second => ({ ...healthy(1), quality: second % 2 === 0 ? [0.01] : [] });
    expect(simulate(alarm, variants(quality(5, 0.10), sparse), 3600).firstAlarmAt).toBeUndefined();
  });

  test('two gates on the same metric do not clash on alarm names or construct ids', () => {
    const { endpoint } = canary(RollbackAlarms.combine(
      RollbackAlarms.quality(CTR),
      RollbackAlarms.quality({ ...CTR, statistic: 'p50' }),
      RollbackAlarms.quality({ ...CTR, maxDropPercent: 20 }),
    ));
    expect(endpoint.rollbackAlarmNames).toEqual([NAME, `${PREFIX}quality-Recommender-ClickThrough-p50`, `${NAME}-2`]);
  });

  test('refused on a shadow: its answers never reach users', () => {
    const stack = newStack();
    expect(() => new ModelEndpoint(stack, 'E', {
      production: { model: modelV1(stack) },
      candidate: Candidate.shadow({ model: modelV2(stack), alarms: RollbackAlarms.quality(CTR) }),
    })).toThrow('TestStack/E: RollbackAlarms.quality needs a canary candidate: a shadow\'s answers never reach users');
  });

  test.each<[string, () => unknown, string]>([
    ['Sum', () => RollbackAlarms.quality({ ...CTR, statistic: 'Sum' }),
      'rollbackAlarms.quality.statistic must not be Sum or SampleCount, got "Sum": they grow with a variant\'s share of traffic, so a canary would always look worse than production; use Average, a percentile such as p50, Minimum or Maximum'],
    ['SampleCount', () => RollbackAlarms.quality({ ...CTR, statistic: 'SampleCount' }), 'rollbackAlarms.quality.statistic must not be Sum or SampleCount, got "SampleCount"'],
    ['a tolerance of 0', () => RollbackAlarms.quality({ ...CTR, maxDropPercent: 0 }), 'rollbackAlarms.quality.maxDropPercent must be greater than 0 and at most 100, got 0'],
    ['a tolerance above 100', () => RollbackAlarms.quality({ ...CTR, maxDropPercent: 150 }), 'rollbackAlarms.quality.maxDropPercent must be greater than 0 and at most 100, got 150'],
    ['a sample count below 1', () => RollbackAlarms.quality({ ...CTR, minSamples: 0 }), 'rollbackAlarms.quality.minSamples must be a whole number of at least 1, got 0'],
    ['an AWS namespace', () => RollbackAlarms.quality({ ...CTR, metricNamespace: 'AWS/SageMaker' }),
      'rollbackAlarms.quality.metricNamespace must be 1-255 characters and not start with "AWS/" (your application\'s own metric), got "AWS/SageMaker"'],
    ['a 90-second period', () => RollbackAlarms.quality({ ...CTR, period: Duration.seconds(90) }),
      'rollbackAlarms.quality.period must be a whole number of minutes that divides an hour (1, 2, 3, 4, 5, 10, 15, 20, 30 or 60), got 1 minute 30 seconds'],
  ])('%s is refused', (_name, build, message) => {
    expect(build).toThrow(message);
  });
});

describe('gates together', () => {
  test('relative and quality alarms are rollback alarms the controller watches, so they hold promotion too', () => {
    const { template, endpoint } = canary(RollbackAlarms.combine(
      RollbackAlarms.recommended(),
      RollbackAlarms.relative(),
      RollbackAlarms.quality({ metricNamespace: 'Recommender', metricName: 'ClickThrough', higherIsBetter: true, maxDropPercent: 10, minSamples: 200 }),
    ), CanaryPromotion.steps([10, 25, 50, 100], { interval: Duration.minutes(30) }));
    const spec = JSON.stringify(only(template, 'Custom::SageMakerRolloutDeployment').resource.Properties.Spec);
    for (const name of endpoint.rollbackAlarmNames) {
      expect(name.startsWith('TestStack-rollout-')).toBe(true);
      expect(spec).toContain(name);
    }
    expect(endpoint.rollbackAlarmNames).toHaveLength(4);
  });

  test('a promotion interval shorter than a quality gate\'s time to detect is refused with the numbers', () => {
    expect(() => canary(
      RollbackAlarms.quality({ metricNamespace: 'Recommender', metricName: 'ClickThrough', higherIsBetter: true, maxDropPercent: 10, minSamples: 200 }),
      CanaryPromotion.steps([10, 100], { interval: Duration.minutes(10) }),
    )).toThrow('promotion interval of 600 seconds is shorter than the 960 seconds the slowest rollback alarm needs to fire: make it at least 960 seconds');
  });

  test('more than 10 alarms: counted by kind, with what to drop', () => {
    const stack = newStack();
    const own = [1, 2].map((i) => new cloudwatch.Alarm(stack, `Own${i}`, { metric: new cloudwatch.Metric({ namespace: 'Shop', metricName: `M${i}` }), threshold: 1, evaluationPeriods: 1 }));
    const ctr = { metricNamespace: 'Recommender', metricName: 'ClickThrough', higherIsBetter: true, maxDropPercent: 10, minSamples: 200 };
    expect(() => new ModelEndpoint(stack, 'E', {
      production: { model: modelV1(stack), instanceCount: 2 },
      candidate: Candidate.canary({ model: modelV2(stack), trafficPercent: 10 }),
      rollbackAlarms: RollbackAlarms.combine(
        RollbackAlarms.recommended({ maxLatency: Duration.millis(250), detection: Detection.FAST }),
        RollbackAlarms.relative({ maxLatencyIncreasePercent: 25 }),
        RollbackAlarms.quality(ctr),
        RollbackAlarms.quality({ ...ctr, metricName: 'Conversion' }),
        RollbackAlarms.fromAlarms(own),
      ),
    })).toThrow('TestStack/E: rollbackAlarms must be at most 10 alarms (SageMaker\'s AutoRollbackConfiguration limit), got 11 '
      + '(3 recommended, 2 fast detection, 2 relative, 2 quality gate, 2 your own): drop 1, for example '
      + 'the 2 fast-detection alarms (detection: Detection.STANDARD keeps the one-minute alarms on the same errors); '
      + 'or the relative latency alarm (leave out maxLatencyIncreasePercent) or a second relative set; '
      + 'or some of your own alarms (watch several metrics with one metric-math alarm); '
      + 'or a quality gate on a less important metric; or the recommended latency alarm (leave out maxLatency)');
  });

  test('a composite alarm is refused: neither SageMaker nor the controller could see it', () => {
    const stack = newStack();
    const a = new cloudwatch.Alarm(stack, 'A', { metric: new cloudwatch.Metric({ namespace: 'Shop', metricName: 'Orders' }), threshold: 1, evaluationPeriods: 1 });
    const composite = new cloudwatch.CompositeAlarm(stack, 'Composite', { alarmRule: cloudwatch.AlarmRule.fromAlarm(a, cloudwatch.AlarmState.ALARM) });
    expect(() => RollbackAlarms.fromAlarms([a, composite])).toThrow('RollbackAlarms.fromAlarms takes metric alarms, got the composite alarm TestStack/Composite: '
      + 'CloudWatch returns a composite alarm only to a caller allowed cloudwatch:DescribeAlarms on every alarm (*), and SageMaker and the rollout controller are allowed it on the rollback alarms alone, '
      + 'so neither could see it; give the metric alarms it combines instead');
  });
});

test('the evaluator itself: a request-level model of SageMaker\'s metrics', () => {
  // 10 requests a second, one in ten failing: a 10 % rate, read back from an expression as the alarms use it.
  const t: Traffic = (_v, second) => ({ requests: requests(10, { latencyMicros: 1 }).map((r, i) => ((second * 10 + i) % 10 === 0 ? { ...r, error5xx: true } : r)) });
  const alarm = {
    Metrics: [
      { Id: 'e', Expression: 'IF(inv >= 1, 100 * err / inv, 0)' },
      { Id: 'inv', MetricStat: { Metric: { Namespace: 'AWS/SageMaker', MetricName: 'Invocations', Dimensions: [{ Name: 'VariantName', Value: 'x' }] }, Stat: 'Sum', Period: 60 }, ReturnData: false },
      { Id: 'err', MetricStat: { Metric: { Namespace: 'AWS/SageMaker', MetricName: 'Invocation5XXErrors', Dimensions: [{ Name: 'VariantName', Value: 'x' }] }, Stat: 'Sum', Period: 60 }, ReturnData: false },
    ],
    Threshold: 9.99, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1,
  };
  expect(simulate(alarm, t, 120).firstAlarmAt).toBe(60);
  expect(simulate({ ...alarm, Threshold: 10 }, t, 120).firstAlarmAt).toBeUndefined();
});
