import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Candidate, Detection, ModelEndpoint, RollbackAlarms, TrafficShift } from '../../lib';
import { alarmNamed, healthy, requests, Second, simulate, Traffic } from '../support/metric-math';
import { modelV1, modelV2, newStack, only } from './util';

/**
 * Fast detection, time to detect and the defaults that follow it. Alarms are judged by what they
 * do on synthetic traffic (test/support/metric-math.ts), not by their expression strings.
 */

function canary(rollbackAlarms?: RollbackAlarms, stack: Stack = newStack()) {
  const endpoint = new ModelEndpoint(stack, 'E', {
    endpointName: 'recommender',
    production: { model: modelV1(stack), instanceCount: 2 },
    candidate: Candidate.canary({ model: modelV2(stack), trafficPercent: 10 }),
    rollbackAlarms,
  });
  return { stack, endpoint, template: Template.fromStack(stack) };
}

const PREFIX = 'TestStack-rollout-recommender-candidate-';
const BROKEN: Second['requests'][number] = { error5xx: true, modelError: true, latencyMicros: 20_000 };

/** The candidate serves `rps` requests a second, healthy until `brokenFrom`, then failing every one. */
function breaksAt(brokenFrom: number, rps = 10): Traffic {
  return (variant, second) => {
    if (variant !== 'candidate' || second < brokenFrom) return healthy(rps);
    return { requests: requests(rps, BROKEN) };
  };
}

describe('fast detection', () => {
  test('Detection.FAST turns on enhanced metrics every 10 seconds and adds two 10-second alarms beside the standard ones', () => {
    const { template, endpoint } = canary(RollbackAlarms.recommended({ detection: Detection.FAST }));
    expect(only(template, 'AWS::SageMaker::EndpointConfig').resource.Properties.MetricsConfig).toEqual({ EnableEnhancedMetrics: true, MetricPublishFrequencyInSeconds: 10 });
    expect(endpoint.rollbackAlarmNames).toEqual([`${PREFIX}5xx-error-rate`, `${PREFIX}model-error-rate`, `${PREFIX}5xx-error-rate-fast`, `${PREFIX}model-error-rate-fast`]);
    for (const suffix of ['5xx-error-rate-fast', 'model-error-rate-fast']) {
      const fast = alarmNamed(template, PREFIX + suffix);
      expect(fast).toEqual(expect.objectContaining({ EvaluationPeriods: 3, DatapointsToAlarm: 2, TreatMissingData: 'notBreaching', Threshold: 1 }));
      for (const m of fast.Metrics.filter((x: any) => x.MetricStat)) expect(m.MetricStat.Period).toBe(10);
    }
    const names = only(template, 'AWS::SageMaker::Endpoint').resource.Properties.DeploymentConfig.AutoRollbackConfiguration.Alarms;
    expect(names.map((a: any) => a.AlarmName)).toEqual(endpoint.rollbackAlarmNames);
  });

  test('the default is Detection.STANDARD: no MetricsConfig, one-minute alarms only', () => {
    const { template, endpoint } = canary();
    expect(only(template, 'AWS::SageMaker::EndpointConfig').resource.Properties.MetricsConfig).toBeUndefined();
    expect(endpoint.rollbackAlarmNames).toHaveLength(2);
    expect(endpoint.timeToDetect.toSeconds()).toBe(240);
  });

  test.each([0, 3, 7, 9])('a fully broken candidate trips a fast alarm within the 40-second target (broken %d s into a period)', (offset) => {
    const { template, endpoint } = canary(RollbackAlarms.recommended({ detection: Detection.FAST }));
    const brokenFrom = 300 + offset;
    for (const suffix of ['5xx-error-rate-fast', 'model-error-rate-fast']) {
      const run = simulate(alarmNamed(template, PREFIX + suffix), breaksAt(brokenFrom), 600);
      expect(run.firstAlarmAt).toBeDefined();
      expect(run.firstAlarmAt! - brokenFrom).toBeLessThanOrEqual(40);
    }
    // The standard alarm catches it too, within the endpoint's time to detect.
    const standard = simulate(alarmNamed(template, `${PREFIX}5xx-error-rate`), breaksAt(brokenFrom), 900);
    expect(standard.firstAlarmAt! - brokenFrom).toBeLessThanOrEqual(endpoint.timeToDetect.toSeconds());
    expect(standard.firstAlarmAt! - brokenFrom).toBeGreaterThan(40);
  });

  test('healthy traffic and errors below the threshold never trip the fast alarms', () => {
    const { template } = canary(RollbackAlarms.recommended({ detection: Detection.FAST }));
    // 0.5 % of requests fail: one in 200, below the 1 % threshold.
    const noisy: Traffic = (_variant, second) => ({ requests: requests(20, { latencyMicros: 50_000 }).map((r, i) => ((second * 20 + i) % 200 === 0 ? BROKEN : r)) });
    for (const suffix of ['5xx-error-rate-fast', 'model-error-rate-fast']) {
      expect(simulate(alarmNamed(template, PREFIX + suffix), noisy, 900).firstAlarmAt).toBeUndefined();
    }
  });

  test('under the minimum traffic the fast alarms stay quiet, and the standard ones still catch a candidate that fails every request', () => {
    const { template } = canary(RollbackAlarms.recommended({ detection: Detection.FAST }));
    // One request every 10 seconds (6 a minute), every one failing: 1 of the 20 requests / 5 errors
    // a 10-second period needs to be judged; 6 errors a minute are enough for the one-minute alarm.
    const trickle: Traffic = (variant, second) => ({ requests: variant === 'candidate' && second % 10 === 0 ? [BROKEN] : [] });
    expect(simulate(alarmNamed(template, `${PREFIX}5xx-error-rate-fast`), trickle, 900).firstAlarmAt).toBeUndefined();
    expect(simulate(alarmNamed(template, `${PREFIX}5xx-error-rate`), trickle, 900).firstAlarmAt).toBeLessThanOrEqual(240);
  });

  test('if CloudWatch keeps the 10-second datapoints at one-minute resolution, the fast alarms see no breach and the standard ones protect as before', () => {
    const { template } = canary(RollbackAlarms.recommended({ detection: Detection.FAST }));
    const oneMinute = { storageResolutionSeconds: 60 };
    expect(simulate(alarmNamed(template, `${PREFIX}5xx-error-rate-fast`), breaksAt(300), 900, oneMinute).firstAlarmAt).toBeUndefined();
    expect(simulate(alarmNamed(template, `${PREFIX}5xx-error-rate`), breaksAt(300), 900, oneMinute).firstAlarmAt! - 300).toBeLessThanOrEqual(240);
  });

  test('blue/green: the fast alarms watch the new fleet only', () => {
    const stack = newStack();
    new ModelEndpoint(stack, 'E', { endpointName: 'recommender', production: { model: modelV1(stack) }, rollbackAlarms: RollbackAlarms.recommended({ detection: Detection.FAST }) });
    const template = Template.fromStack(stack);
    const fast = alarmNamed(template, 'TestStack-rollout-recommender-production-5xx-error-rate-fast');
    const dims = fast.Metrics.find((m: any) => m.MetricStat).MetricStat.Metric.Dimensions.map((d: any) => d.Name);
    expect(dims.sort()).toEqual(['EndpointConfigName', 'EndpointName', 'VariantName']);
    expect(only(template, 'AWS::SageMaker::EndpointConfig').resource.Properties.MetricsConfig.MetricPublishFrequencyInSeconds).toBe(10);
  });

  test('refused on serverless endpoints, which have no enhanced metrics', () => {
    const stack = newStack();
    expect(() => new ModelEndpoint(stack, 'E', {
      production: { model: modelV1(stack), serverless: { memorySizeInMB: 2048, maxConcurrency: 5 } },
      rollbackAlarms: RollbackAlarms.recommended({ detection: Detection.FAST }),
    })).toThrow('TestStack/E: rollbackAlarms detection Detection.FAST needs SageMaker\'s enhanced metrics, which are documented for instance-based '
      + 'single-model endpoints and inference components, not for serverless variants: use Detection.STANDARD, or instances');
  });
});

describe('the latency alarm\'s low-traffic guard', () => {
  const latencyAlarm = () => alarmNamed(canary(RollbackAlarms.recommended({ maxLatency: Duration.millis(250) })).template, `${PREFIX}model-latency`);
  /** Requests of the candidate at `perMinute` a minute, at `slowMs` when `slow(i)` says so, 50 ms otherwise. */
  const lowTraffic = (perMinute: number, slow: (i: number) => boolean, slowMs = 2000): Traffic => (variant, second) => {
    const every = Math.floor(60 / perMinute);
    if (variant !== 'candidate' || second % every !== 0) return { requests: [] };
    return { requests: [{ latencyMicros: (slow(second / every) ? slowMs : 50) * 1000 }] };
  };

  test('does not fire on noise: one slow request a minute among a few', () => {
    expect(simulate(latencyAlarm(), lowTraffic(6, (i) => i % 6 === 0), 1800).firstAlarmAt).toBeUndefined();
  });

  test('does not hide a candidate that is slow on every request, however little traffic it gets', () => {
    const run = simulate(latencyAlarm(), lowTraffic(3, () => true), 1800);
    expect(run.firstAlarmAt).toBeLessThanOrEqual(240);
  });

  test('judges the percentile once there is enough traffic', () => {
    // 10 requests a second, 2 % of them slow: the p99 is slow.
    const busy: Traffic = (variant, second) => ({ requests: Array.from({ length: 10 }, (_, i) => ({ latencyMicros: variant === 'candidate' && (second * 10 + i) % 50 === 0 ? 2_000_000 : 50_000 })) });
    expect(simulate(latencyAlarm(), busy, 600).firstAlarmAt).toBeLessThanOrEqual(240);
    expect(simulate(latencyAlarm(), (_v, _s) => healthy(10), 600).firstAlarmAt).toBeUndefined();
  });
});

describe('time to detect, and the default bake that follows it', () => {
  const fiveMinuteAlarm = (stack: Stack) => new cloudwatch.Alarm(stack, 'Orders', {
    metric: new cloudwatch.Metric({ namespace: 'Shop', metricName: 'Orders', period: Duration.minutes(5) }), threshold: 1, evaluationPeriods: 3,
  });

  test('endpoint.timeToDetect: period x (datapointsToAlarm + 1) + the evaluation interval of the slowest alarm', () => {
    expect(canary(RollbackAlarms.recommended({ detection: Detection.FAST })).endpoint.timeToDetect.toSeconds()).toBe(240);
    expect(canary(RollbackAlarms.recommended({ period: Duration.minutes(5), datapointsToAlarm: 1 }), newStack()).endpoint.timeToDetect.toSeconds()).toBe(660);
    expect(canary(RollbackAlarms.combine(RollbackAlarms.recommended(), RollbackAlarms.quality({
      metricNamespace: 'Recommender', metricName: 'ClickThrough', higherIsBetter: true, maxDropPercent: 10, minSamples: 200,
    }))).endpoint.timeToDetect.toSeconds()).toBe(960);
  });

  test('without a trafficShift, the bake is at least the slowest alarm\'s time to detect: a five-minute alarm of your own just works', () => {
    const stack = newStack();
    const endpoint = new ModelEndpoint(stack, 'E', {
      production: { model: modelV1(stack) },
      rollbackAlarms: RollbackAlarms.combine(RollbackAlarms.recommended(), RollbackAlarms.fromAlarms([fiveMinuteAlarm(stack)])),
    });
    // 3 of 3 periods of 300 s: 300 x 4 + 60.
    expect(endpoint.timeToDetect.toSeconds()).toBe(1260);
    const policy = only(Template.fromStack(stack), 'AWS::SageMaker::Endpoint').resource.Properties.DeploymentConfig.BlueGreenUpdatePolicy;
    expect(policy).toEqual(expect.objectContaining({ TerminationWaitInSeconds: 1260, MaximumExecutionTimeoutInSeconds: 1260 + 1800 }));
  });

  test('the default bake stays 10 minutes when the alarms are faster', () => {
    const { template } = canary();
    expect(only(template, 'AWS::SageMaker::Endpoint').resource.Properties.DeploymentConfig.BlueGreenUpdatePolicy.TerminationWaitInSeconds).toBe(600);
  });

  test('an explicit bake that is too short stays an error', () => {
    const stack = newStack();
    expect(() => new ModelEndpoint(stack, 'E', {
      production: { model: modelV1(stack) },
      rollbackAlarms: RollbackAlarms.combine(RollbackAlarms.recommended(), RollbackAlarms.fromAlarms([fiveMinuteAlarm(stack)])),
      trafficShift: TrafficShift.allAtOnce({ bake: Duration.minutes(10) }),
    })).toThrow('trafficShift.bake of 600 seconds is shorter than the 1260 seconds the slowest rollback alarm needs to fire (its time to detect): make it at least 1260 seconds, or make the alarms faster');
  });

  test('past SageMaker\'s 3600-second wait, an error gives the numbers even without a trafficShift', () => {
    const gate = RollbackAlarms.quality({ metricNamespace: 'Recommender', metricName: 'ClickThrough', higherIsBetter: true, maxDropPercent: 10, minSamples: 200, period: Duration.minutes(20) });
    expect(() => canary(RollbackAlarms.combine(RollbackAlarms.recommended(), gate))).toThrow(
      'TestStack/E: the slowest rollback alarm (TestStack-rollout-recommender-candidate-quality-Recommender-ClickThrough-Average) needs 3660 seconds to fire (its time to detect), '
      + 'more than the 3600 seconds SageMaker can bake a deployment (TerminationWaitInSeconds): give it a shorter period or fewer datapoints to alarm, so that it fires within 3600 seconds');
    const stack = newStack();
    expect(() => new ModelEndpoint(stack, 'E', {
      production: { model: modelV1(stack), instanceCount: 2 },
      candidate: Candidate.canary({ model: modelV2(stack), trafficPercent: 10 }),
      rollbackAlarms: RollbackAlarms.combine(RollbackAlarms.recommended(), gate),
      trafficShift: TrafficShift.allAtOnce({ bake: Duration.hours(1) }),
    })).toThrow('trafficShift.bake of 3600 seconds is shorter than the 3660 seconds the slowest rollback alarm needs to fire (its time to detect): '
      + 'SageMaker waits at most 3600 seconds, so make the alarms faster (a shorter period or fewer datapoints to alarm)');
  });
});
