import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import * as metrics from '../metrics';
import { validateNumberInRange, validateWholeNumber } from '../private/validation';
import { alarmName, AlarmSetBinder, RollbackAlarmSet, RollbackAlarmTarget, validateAlarmPeriod } from './alarm-set';
import { Detection } from './detection';
import { bindFastAlarms, FAST_PUBLISH_FREQUENCY_SECONDS } from './fast-detection';
import { timeToDetectSeconds } from './time-to-detect';

/**
 * Options of the recommended rollback alarms. Every default is a documented number: the README's
 * "Rollback alarms" table lists them.
 */
export interface RecommendedAlarmsOptions {
  /**
   * Highest acceptable share of requests answered with a 5xx, in percent.
   * @default 1
   */
  readonly maxErrorRatePercent?: number;
  /**
   * Highest acceptable share of requests the model failed (`InvocationModelErrors`), in percent.
   * A separate alarm from the 5xx rate: a failed model answer counts in both metrics, so they are
   * never added up.
   * @default - the same as maxErrorRatePercent
   */
  readonly maxModelErrorRatePercent?: number;
  /**
   * Highest acceptable model latency (`ModelLatency`, at `latencyStatistic`).
   * @default - no latency alarm
   */
  readonly maxLatency?: Duration;
  /**
   * Statistic of the latency alarm, for example `p99`, `p90` or `Average`.
   * @default 'p99'
   */
  readonly latencyStatistic?: string;
  /**
   * Length of one evaluation period. SageMaker publishes invocation metrics every minute.
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;
  /**
   * Number of periods an alarm looks at ("N" of "M out of N").
   * @default 3
   */
  readonly evaluationPeriods?: number;
  /**
   * How many of those periods must breach ("M out of N"), so one bad minute is not a rollback.
   * The time to detect is `period x (datapointsToAlarm + 1)` plus CloudWatch's evaluation interval.
   * @default 2
   */
  readonly datapointsToAlarm?: number;
  /**
   * Low-traffic guard: a period with fewer requests than this is judged on `minErrors` alone, so
   * three errors in five requests do not read as a 60 % error rate; the latency alarm judges such
   * a period by its fastest request instead of `latencyStatistic`.
   * @default 20
   */
  readonly minInvocations?: number;
  /**
   * A period with at least this many errors is judged even when it has fewer than
   * `minInvocations` requests, so that low traffic cannot hide a model that fails every request.
   * @default 5
   */
  readonly minErrors?: number;
  /**
   * How fast a broken new model is noticed. `Detection.FAST` adds 10-second alarms on the error
   * rates beside the one-minute ones and turns on SageMaker's enhanced metrics at a 10-second
   * interval (it costs more: README, "How fast a bad model is caught"). Instance-based endpoints
   * only. The fast alarms use the same thresholds, and the same `minInvocations` and `minErrors`
   * per 10-second period.
   * @default Detection.STANDARD
   */
  readonly detection?: Detection;
}

/** The defaults of `RollbackAlarms.recommended()`, as numbers. */
export const RECOMMENDED_DEFAULTS = {
  maxErrorRatePercent: 1,
  latencyStatistic: 'p99',
  periodSeconds: 60,
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
  minInvocations: 20,
  minErrors: 5,
} as const;

/** Alarms on the 5xx rate, the model-error rate and, with `maxLatency`, the model latency of the new model. */
export class RecommendedAlarms implements AlarmSetBinder {
  constructor(private readonly options: RecommendedAlarmsOptions) {
    validateNumberInRange('rollbackAlarms.maxErrorRatePercent', options.maxErrorRatePercent, 0, 100);
    validateNumberInRange('rollbackAlarms.maxModelErrorRatePercent', options.maxModelErrorRatePercent, 0, 100);
    validateWholeNumber('rollbackAlarms.evaluationPeriods', options.evaluationPeriods, 1, 10);
    validateWholeNumber('rollbackAlarms.datapointsToAlarm', options.datapointsToAlarm, 1, options.evaluationPeriods ?? RECOMMENDED_DEFAULTS.evaluationPeriods);
    validateWholeNumber('rollbackAlarms.minInvocations', options.minInvocations, 0);
    validateWholeNumber('rollbackAlarms.minErrors', options.minErrors, 0);
    validateAlarmPeriod('rollbackAlarms.period', options.period);
    if (options.maxLatency && !options.maxLatency.isUnresolved() && options.maxLatency.toMilliseconds({ integral: false }) < 1) {
      throw new Error(`rollbackAlarms.maxLatency must be at least 1 millisecond, got ${options.maxLatency.toHumanString()}`);
    }
    const stat = options.latencyStatistic;
    if (stat !== undefined && !Token.isUnresolved(stat) && !/^(Average|Maximum|Minimum|p\d{1,2}(\.\d+)?)$/.test(stat)) {
      throw new Error(`rollbackAlarms.latencyStatistic must be Average, Minimum, Maximum or a percentile such as p99, got "${stat}"`);
    }
    if (options.detection !== undefined && !Object.values(Detection).includes(options.detection)) {
      throw new Error(`rollbackAlarms.detection must be Detection.STANDARD or Detection.FAST, got "${options.detection}"`);
    }
  }

  public bind(scope: Construct, target: RollbackAlarmTarget): RollbackAlarmSet {
    const o = this.options;
    const period = o.period ?? Duration.seconds(RECOMMENDED_DEFAULTS.periodSeconds);
    const evaluationPeriods = o.evaluationPeriods ?? RECOMMENDED_DEFAULTS.evaluationPeriods;
    const datapointsToAlarm = o.datapointsToAlarm ?? RECOMMENDED_DEFAULTS.datapointsToAlarm;
    const minInvocations = o.minInvocations ?? RECOMMENDED_DEFAULTS.minInvocations;
    const minErrors = o.minErrors ?? RECOMMENDED_DEFAULTS.minErrors;
    const maxErrorRate = o.maxErrorRatePercent ?? RECOMMENDED_DEFAULTS.maxErrorRatePercent;
    const maxModelErrorRate = o.maxModelErrorRatePercent ?? maxErrorRate;
    const detection = `${datapointsToAlarm} of ${evaluationPeriods} periods of ${period.toHumanString()}`;
    const guard = `Periods with fewer than ${minInvocations} requests count only when they have at least ${minErrors} errors.`;

    const common = {
      evaluationPeriods,
      datapointsToAlarm,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // No traffic is not a failure: a new fleet or a small canary may see no requests for a while.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    const names = [alarmName(target, '5xx-error-rate'), alarmName(target, 'model-error-rate')];
    const alarms: cloudwatch.IAlarm[] = [
      new cloudwatch.Alarm(scope, 'Error5xxRateAlarm', {
        ...common,
        alarmName: names[0],
        alarmDescription: `Rolls back ${target.description} when more than ${maxErrorRate}% of its requests get a 5xx in ${detection}. ${guard}`,
        metric: metrics.errorRatePercent(target, { errorKind: metrics.ErrorKind.SERVER_5XX, period, minInvocations, minErrors }),
        threshold: maxErrorRate,
      }),
      new cloudwatch.Alarm(scope, 'ModelErrorRateAlarm', {
        ...common,
        alarmName: names[1],
        alarmDescription: `Rolls back ${target.description} when the model fails more than ${maxModelErrorRate}% of its requests in ${detection}. ${guard}`,
        metric: metrics.errorRatePercent(target, { errorKind: metrics.ErrorKind.MODEL, period, minInvocations, minErrors }),
        threshold: maxModelErrorRate,
      }),
    ];
    if (o.maxLatency) {
      const statistic = o.latencyStatistic ?? RECOMMENDED_DEFAULTS.latencyStatistic;
      names.push(alarmName(target, 'model-latency'));
      alarms.push(new cloudwatch.Alarm(scope, 'LatencyAlarm', {
        ...common,
        alarmName: names[names.length - 1],
        alarmDescription: `Rolls back ${target.description} when its ${statistic} model latency exceeds ${o.maxLatency.toHumanString()} (${metrics.latencyThresholdMicros(o.maxLatency)} microseconds, the unit of ModelLatency) in ${detection}. `
          + `Periods with fewer than ${minInvocations} requests are judged by their fastest request: they breach only when every request was too slow.`,
        metric: latencyWithGuard(target, period, statistic, minInvocations),
        threshold: metrics.latencyThresholdMicros(o.maxLatency),
      }));
    }
    const sources = alarms.map(() => 'recommended');
    let slowest = timeToDetectSeconds(period.toSeconds(), datapointsToAlarm);
    let metricPublishFrequencySeconds: number | undefined;
    if (o.detection === Detection.FAST) {
      const fast = bindFastAlarms(scope, target, { maxErrorRatePercent: maxErrorRate, maxModelErrorRatePercent: maxModelErrorRate, minInvocations, minErrors });
      alarms.push(...fast.alarms);
      names.push(...fast.names);
      sources.push(...fast.alarms.map(() => 'fast detection'));
      slowest = Math.max(slowest, fast.timeToDetectSeconds);
      metricPublishFrequencySeconds = FAST_PUBLISH_FREQUENCY_SECONDS;
    }
    return { alarms, names, sources, timeToDetectSeconds: slowest, slowestAlarmName: names[0], metricPublishFrequencySeconds };
  }
}

/**
 * The latency alarm's metric with its low-traffic guard. A percentile of a handful of requests is
 * noise (the p99 of five requests is the slowest of them), yet a guard that reports 0 under low
 * traffic would hide, forever, a candidate that is slow on every request. So a period with fewer
 * than `minInvocations` requests is judged by its fastest request (`Minimum`): it breaches only
 * when every request of the period was slower than the threshold.
 */
export function latencyWithGuard(target: RollbackAlarmTarget, period: Duration, statistic: string, minInvocations: number): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `IF(invocations >= ${minInvocations}, latency, fastest)`,
    usingMetrics: {
      invocations: metrics.invocations(target, { period }),
      latency: metrics.modelLatency(target, { period, statistic }),
      fastest: metrics.modelLatency(target, { period, statistic: cloudwatch.Stats.MINIMUM }),
    },
    period,
    label: `ModelLatency ${statistic} (microseconds)`,
  });
}
