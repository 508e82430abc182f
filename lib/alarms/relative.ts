import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import * as metrics from '../metrics';
import { validateNumberInRange, validateWholeNumber } from '../private/validation';
import { alarmName, AlarmSetBinder, namePart, RollbackAlarmSet, RollbackAlarmTarget, targetError, validateAlarmPeriod } from './alarm-set';
import { timeToDetectSeconds } from './time-to-detect';

/** Options of `RollbackAlarms.relative`: the candidate against production, at the same time. */
export interface RelativeAlarmsOptions {
  /**
   * Highest acceptable difference between the candidate's error rate and production's, in
   * percentage points (0-100): with 1, a candidate failing 1.5 % of requests while production
   * fails 0.4 % rolls back (1.1 points), and both failing 30 % does not (0 points).
   * @default 1
   */
  readonly maxErrorRateIncreasePoints?: number;
  /**
   * Highest acceptable latency of the candidate above production's, in percent of production's
   * (at `latencyStatistic`): with 25, a candidate p99 of 130 ms against production's 100 ms rolls
   * back. At least 1.
   * @default - no relative latency alarm
   */
  readonly maxLatencyIncreasePercent?: number;
  /**
   * Requests each variant must serve in a period before it is compared: below that, the period
   * reads as "no difference". A rate difference on N requests moves in steps of 100/N points, so
   * keep N well above 100 / maxErrorRateIncreasePoints.
   * @default 100
   */
  readonly minInvocations?: number;
  /**
   * Which errors the rate counts.
   * @default ErrorKind.MODEL (`InvocationModelErrors`: what the candidate's own model fails)
   */
  readonly errorKind?: metrics.ErrorKind;
  /**
   * Statistic of the latency comparison, for example `p99`, `p90` or `Average`.
   * @default 'p99'
   */
  readonly latencyStatistic?: string;
  /**
   * Length of one period; the alarms fire on 2 breaching periods of 3.
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;
}

const DATAPOINTS_TO_ALARM = 2;
const EVALUATION_PERIODS = 3;

/**
 * Metric-math alarms that compare a canary candidate with production over the same periods: a
 * failure of both variants (a downstream outage) is no reason to roll the canary back; a failure
 * of the candidate alone is. Canary only: a shadow's answers never reach users, and an endpoint
 * with one variant has nothing to compare with.
 */
export class RelativeAlarms implements AlarmSetBinder {
  constructor(private readonly options: RelativeAlarmsOptions) {
    validateNumberInRange('rollbackAlarms.relative.maxErrorRateIncreasePoints', options.maxErrorRateIncreasePoints, 0, 100);
    const latency = options.maxLatencyIncreasePercent;
    if (latency !== undefined && !Token.isUnresolved(latency) && (!Number.isFinite(latency) || latency < 1 || latency > 1000)) {
      throw new Error(`rollbackAlarms.relative.maxLatencyIncreasePercent must be between 1 and 1000, got ${latency}`);
    }
    validateWholeNumber('rollbackAlarms.relative.minInvocations', options.minInvocations, 1);
    const stat = options.latencyStatistic;
    if (stat !== undefined && !Token.isUnresolved(stat) && !/^(Average|Maximum|Minimum|p\d{1,2}(\.\d+)?)$/.test(stat)) {
      throw new Error(`rollbackAlarms.relative.latencyStatistic must be Average, Minimum, Maximum or a percentile such as p99, got "${stat}"`);
    }
    validateAlarmPeriod('rollbackAlarms.relative.period', options.period);
  }

  public bind(scope: Construct, target: RollbackAlarmTarget): RollbackAlarmSet {
    const production = requireLiveProduction(target, 'RollbackAlarms.relative');
    const o = this.options;
    const period = o.period ?? Duration.minutes(1);
    const minInvocations = o.minInvocations ?? 100;
    const maxPoints = o.maxErrorRateIncreasePoints ?? 1;
    const kind = o.errorKind ?? metrics.ErrorKind.MODEL;
    const candidate = { endpointName: target.endpointName, variantName: target.variantName };
    const prod = { endpointName: target.endpointName, variantName: production };
    const ids = { invC: 'invocations_candidate', invP: 'invocations_production' };
    const bothServed = `${ids.invC} >= ${minInvocations} AND ${ids.invP} >= ${minInvocations}`;
    const common = {
      evaluationPeriods: EVALUATION_PERIODS,
      datapointsToAlarm: DATAPOINTS_TO_ALARM,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    const window = `${DATAPOINTS_TO_ALARM} of ${EVALUATION_PERIODS} periods of ${period.toHumanString()}`;
    const guard = `Periods in which either variant served fewer than ${minInvocations} requests count as no difference.`;

    const names = [alarmName(target, `relative-${namePart(kind)}-rate`)];
    const alarms: cloudwatch.IAlarm[] = [new cloudwatch.Alarm(scope, `Relative${kind}RateAlarm`, {
      ...common,
      alarmName: names[0],
      alarmDescription: `Rolls back ${target.description} when its ${kind} rate is more than ${maxPoints} percentage points above production's (variant ${production}) `
        + `over the same periods, in ${window}. A failure of both variants does not roll back. ${guard}`,
      metric: new cloudwatch.MathExpression({
        expression: `IF(${bothServed}, 100 * errors_candidate / ${ids.invC} - 100 * errors_production / ${ids.invP}, 0)`,
        usingMetrics: {
          [ids.invC]: metrics.invocations(candidate, { period }),
          errors_candidate: metrics.variantMetric(candidate, kind, { statistic: cloudwatch.Stats.SUM, period }),
          [ids.invP]: metrics.invocations(prod, { period }),
          errors_production: metrics.variantMetric(prod, kind, { statistic: cloudwatch.Stats.SUM, period }),
        },
        period,
        label: `${kind} rate, candidate minus production (percentage points)`,
      }),
      threshold: maxPoints,
    })];
    if (o.maxLatencyIncreasePercent !== undefined) {
      const statistic = o.latencyStatistic ?? 'p99';
      names.push(alarmName(target, `relative-latency-${namePart(statistic)}`));
      alarms.push(new cloudwatch.Alarm(scope, `RelativeLatency${namePart(statistic).replace(/[^A-Za-z0-9]/g, '')}Alarm`, {
        ...common,
        alarmName: names[1],
        alarmDescription: `Rolls back ${target.description} when its ${statistic} model latency is more than ${o.maxLatencyIncreasePercent}% above production's (variant ${production}) `
          + `over the same periods, in ${window}. Both variants slowing down together does not roll back. ${guard}`,
        metric: new cloudwatch.MathExpression({
          expression: `IF(${bothServed} AND latency_production > 0, 100 * (latency_candidate - latency_production) / latency_production, 0)`,
          usingMetrics: {
            [ids.invC]: metrics.invocations(candidate, { period }),
            latency_candidate: metrics.modelLatency(candidate, { period, statistic }),
            [ids.invP]: metrics.invocations(prod, { period }),
            latency_production: metrics.modelLatency(prod, { period, statistic }),
          },
          period,
          label: `ModelLatency ${statistic}, candidate above production (%)`,
        }),
        threshold: o.maxLatencyIncreasePercent,
      }));
    }
    return {
      alarms,
      names,
      sources: alarms.map(() => 'relative'),
      timeToDetectSeconds: timeToDetectSeconds(period.toSeconds(), DATAPOINTS_TO_ALARM),
      slowestAlarmName: names[0],
    };
  }
}

/**
 * The production variant a gate compares the candidate with; an error that says why on a shadow
 * or a single-variant endpoint.
 */
export function requireLiveProduction(target: RollbackAlarmTarget, what: string): string {
  if (target.shadow) {
    throw targetError(target, `${what} needs a canary candidate: a shadow's answers never reach users, so there is no live outcome to compare with production `
      + '(compare a shadow with "npx cdk-sagemaker-rollout compare"; put the gate on a Candidate.canary)');
  }
  if (target.productionVariantName === undefined) {
    throw targetError(target, `${what} needs a second live variant to compare with production at the same time, and this endpoint has only its production variant `
      + '(a blue/green update replaces the whole fleet): add a canary candidate (Candidate.canary), or use RollbackAlarms.recommended');
  }
  return target.productionVariantName;
}
