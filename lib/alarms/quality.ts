import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { validateWholeNumber } from '../private/validation';
import { alarmName, AlarmSetBinder, namePart, RollbackAlarmSet, RollbackAlarmTarget, validateAlarmPeriod } from './alarm-set';
import { requireLiveProduction } from './relative';
import { timeToDetectSeconds } from './time-to-detect';

/**
 * Options of `RollbackAlarms.quality`: a gate on the team's own per-variant quality metric.
 *
 * The metric must carry **exactly** the dimensions `EndpointName` and `VariantName` (the variant
 * that answered, from the `x-amzn-invoked-production-variant` header of `InvokeEndpoint`): the gate
 * queries exactly those two, and CloudWatch treats every other combination of dimensions as
 * another metric, so a datapoint with an extra dimension is never seen by the gate.
 */
export interface QualityGateOptions {
  /**
   * Namespace of the metric, for example `Recommender` (`namespace` would be a reserved word in
   * C#, one of the languages the library ships to).
   */
  readonly metricNamespace: string;
  /** Name of the metric, for example `ClickThrough`. Dimensions: exactly `EndpointName` and `VariantName`. */
  readonly metricName: string;
  /**
   * The statistic compared: `Average`, a percentile such as `p50`, `Minimum` or `Maximum`. Never
   * `Sum` or `SampleCount`: they grow with a variant's share of traffic, so a 10 % canary would
   * always look worse than production.
   * @default 'Average'
   */
  readonly statistic?: string;
  /** Whether a higher value is better (click-through, accuracy) or a lower one (error, loss). */
  readonly higherIsBetter: boolean;
  /**
   * How much worse than production the candidate may be, in percent of production's value,
   * whichever direction is worse (greater than 0, at most 100): with 10 and `higherIsBetter`,
   * a click-through of 0.09 against production's 0.10 (10 % worse) holds, 0.089 rolls back.
   */
  readonly maxDropPercent: number;
  /**
   * Datapoints (`SampleCount`) each variant must have published in a period before it is compared;
   * below that, the period reads as "no difference". Publish one value per request (or statistic
   * sets with their sample count).
   */
  readonly minSamples: number;
  /**
   * Length of one period; the gate fires on 2 breaching periods of 3. Longer periods need fewer
   * requests but stretch the time to detect, and with it the default bake and the shortest
   * promotion interval (SageMaker bakes at most 3600 seconds).
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;
}

const DATAPOINTS_TO_ALARM = 2;
const EVALUATION_PERIODS = 3;

/** Statistics a quality gate can compare; `Sum` and `SampleCount` are refused with their own message. */
const COMPARABLE = /^(Average|Minimum|Maximum|p\d{1,2}(\.\d+)?|(tm|wm|tc|ts)\d{1,2}(\.\d+)?)$/;

/**
 * A rollback alarm and promotion gate for canaries on the team's own quality metric: the
 * candidate's value against production's over the same period, "worse by" `maxDropPercent` in the
 * direction that is worse.
 */
export class QualityGate implements AlarmSetBinder {
  constructor(private readonly options: QualityGateOptions) {
    const o = options;
    if (!Token.isUnresolved(o.metricNamespace) && (o.metricNamespace.length === 0 || o.metricNamespace.length > 255 || o.metricNamespace.startsWith('AWS/'))) {
      throw new Error(`rollbackAlarms.quality.metricNamespace must be 1-255 characters and not start with "AWS/" (your application's own metric), got "${o.metricNamespace}"`);
    }
    if (!Token.isUnresolved(o.metricName) && (o.metricName.length === 0 || o.metricName.length > 255)) {
      throw new Error(`rollbackAlarms.quality.metricName must be 1-255 characters, got "${o.metricName}"`);
    }
    const stat = o.statistic;
    if (stat !== undefined && !Token.isUnresolved(stat)) {
      if (/^(sum|samplecount)$/i.test(stat)) {
        throw new Error(`rollbackAlarms.quality.statistic must not be Sum or SampleCount, got "${stat}": they grow with a variant's share of traffic, `
          + 'so a canary would always look worse than production; use Average, a percentile such as p50, Minimum or Maximum');
      }
      if (!COMPARABLE.test(stat)) {
        throw new Error(`rollbackAlarms.quality.statistic must be Average, Minimum, Maximum, a percentile such as p50 or a trimmed mean such as tm90, got "${stat}"`);
      }
    }
    if (!Token.isUnresolved(o.maxDropPercent) && (!Number.isFinite(o.maxDropPercent) || o.maxDropPercent <= 0 || o.maxDropPercent > 100)) {
      throw new Error(`rollbackAlarms.quality.maxDropPercent must be greater than 0 and at most 100, got ${o.maxDropPercent}`);
    }
    validateWholeNumber('rollbackAlarms.quality.minSamples', o.minSamples, 1);
    validateAlarmPeriod('rollbackAlarms.quality.period', o.period);
  }

  public bind(scope: Construct, target: RollbackAlarmTarget): RollbackAlarmSet {
    const production = requireLiveProduction(target, 'RollbackAlarms.quality');
    const o = this.options;
    const period = o.period ?? Duration.minutes(5);
    const statistic = o.statistic ?? 'Average';
    const metric = (variantName: string, stat: string) => new cloudwatch.Metric({
      namespace: o.metricNamespace,
      metricName: o.metricName,
      dimensionsMap: { EndpointName: target.endpointName, VariantName: variantName },
      statistic: stat,
      period,
    });
    // "Worse by", relative to production, in the direction that is worse.
    const worse = o.higherIsBetter ? '(quality_production - quality_candidate)' : '(quality_candidate - quality_production)';
    const name = alarmName(target, `quality-${namePart(o.metricNamespace)}-${namePart(o.metricName)}-${namePart(statistic)}`);
    const direction = o.higherIsBetter ? 'lower' : 'higher';
    const alarm = new cloudwatch.Alarm(scope, `Quality${namePart(o.metricNamespace)}${namePart(o.metricName)}${namePart(statistic)}Alarm`.replace(/[^A-Za-z0-9]/g, ''), {
      alarmName: name,
      alarmDescription: `Rolls back ${target.description} when its ${statistic} of ${o.metricNamespace}/${o.metricName} is more than ${o.maxDropPercent}% ${direction} (worse) `
        + `than production's (variant ${production}) over the same periods, in ${DATAPOINTS_TO_ALARM} of ${EVALUATION_PERIODS} periods of ${period.toHumanString()}. `
        + `Periods in which either variant has fewer than ${o.minSamples} samples, or production's value is 0, count as no difference. `
        + 'The metric must have exactly the dimensions EndpointName and VariantName.',
      metric: new cloudwatch.MathExpression({
        expression: `IF(samples_candidate >= ${o.minSamples} AND samples_production >= ${o.minSamples} AND quality_production != 0, `
          + `100 * ${worse} / ABS(quality_production), 0)`,
        usingMetrics: {
          quality_candidate: metric(target.variantName, statistic),
          samples_candidate: metric(target.variantName, cloudwatch.Stats.SAMPLE_COUNT),
          quality_production: metric(production, statistic),
          samples_production: metric(production, cloudwatch.Stats.SAMPLE_COUNT),
        },
        period,
        label: `${o.metricName} ${statistic}, candidate worse than production (%)`,
      }),
      threshold: o.maxDropPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: EVALUATION_PERIODS,
      datapointsToAlarm: DATAPOINTS_TO_ALARM,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    return {
      alarms: [alarm],
      names: [name],
      sources: ['quality gate'],
      timeToDetectSeconds: timeToDetectSeconds(period.toSeconds(), DATAPOINTS_TO_ALARM),
      slowestAlarmName: name,
    };
  }
}
