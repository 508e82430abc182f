import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import * as metrics from '../metrics';
import { alarmName, RollbackAlarmTarget, targetError } from './alarm-set';
import { timeToDetectSeconds } from './time-to-detect';

/**
 * Fast detection: 10-second alarms on the new model's error rates, beside the one-minute ones.
 *
 * SageMaker publishes invocation metrics every 10 seconds only with enhanced metrics on
 * (`MetricsConfig.EnableEnhancedMetrics` and `MetricPublishFrequencyInSeconds: 10`, "When
 * EnableEnhancedMetrics is set to True, this interval applies to both utilization and invocation
 * metrics", https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_MetricsConfig.html).
 * Whether the endpoint- and variant-level series are then stored at high resolution is not
 * documented; an alarm with a 10-second period on one-minute data sees no data for most of its
 * periods (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html,
 * `Period`). Missing data does not breach, so such an alarm stays quiet and the one-minute alarms
 * keep protecting the endpoint: never less safe than standard detection.
 */

/** The publish interval fast detection asks of SageMaker, in seconds. */
export const FAST_PUBLISH_FREQUENCY_SECONDS = 10;
/** Period of the fast alarms: CloudWatch's high-resolution alarm periods are 10, 20 and 30 seconds. */
export const FAST_PERIOD_SECONDS = 10;
/** Breaching datapoints of the 3 evaluated: one bad 10-second period is not a rollback. */
export const FAST_DATAPOINTS_TO_ALARM = 2;
export const FAST_EVALUATION_PERIODS = 3;

/** The error-rate thresholds and low-traffic guard the fast alarms share with the standard ones. */
export interface FastAlarmOptions {
  readonly maxErrorRatePercent: number;
  readonly maxModelErrorRatePercent: number;
  /** Per 10-second period. */
  readonly minInvocations: number;
  /** Per 10-second period. */
  readonly minErrors: number;
}

/** The fast alarms for one target, and their names. Refused on serverless endpoints. */
export function bindFastAlarms(scope: Construct, target: RollbackAlarmTarget, o: FastAlarmOptions): { alarms: cloudwatch.Alarm[]; names: string[]; timeToDetectSeconds: number } {
  if (target.serverless) {
    // https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch-enhanced-metrics.html:
    // "Enhanced metrics are available for single-model endpoints and inference components."
    throw targetError(target, 'rollbackAlarms detection Detection.FAST needs SageMaker\'s enhanced metrics, which are documented for instance-based '
      + 'single-model endpoints and inference components, not for serverless variants: use Detection.STANDARD, or instances');
  }
  const period = Duration.seconds(FAST_PERIOD_SECONDS);
  const guard = `Periods with fewer than ${o.minInvocations} requests count only when they have at least ${o.minErrors} errors.`;
  const common = {
    evaluationPeriods: FAST_EVALUATION_PERIODS,
    datapointsToAlarm: FAST_DATAPOINTS_TO_ALARM,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    // If SageMaker's 10-second datapoints are not stored at high resolution, most periods are
    // empty: that must never read as a breach.
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  };
  const detection = `${FAST_DATAPOINTS_TO_ALARM} of ${FAST_EVALUATION_PERIODS} periods of 10 seconds (fast detection, beside the one-minute alarm)`;
  const names = [alarmName(target, '5xx-error-rate-fast'), alarmName(target, 'model-error-rate-fast')];
  const alarms = [
    new cloudwatch.Alarm(scope, 'Error5xxRateFastAlarm', {
      ...common,
      alarmName: names[0],
      alarmDescription: `Rolls back ${target.description} when more than ${o.maxErrorRatePercent}% of its requests get a 5xx in ${detection}. ${guard}`,
      metric: metrics.errorRatePercent(target, { errorKind: metrics.ErrorKind.SERVER_5XX, period, minInvocations: o.minInvocations, minErrors: o.minErrors }),
      threshold: o.maxErrorRatePercent,
    }),
    new cloudwatch.Alarm(scope, 'ModelErrorRateFastAlarm', {
      ...common,
      alarmName: names[1],
      alarmDescription: `Rolls back ${target.description} when the model fails more than ${o.maxModelErrorRatePercent}% of its requests in ${detection}. ${guard}`,
      metric: metrics.errorRatePercent(target, { errorKind: metrics.ErrorKind.MODEL, period, minInvocations: o.minInvocations, minErrors: o.minErrors }),
      threshold: o.maxModelErrorRatePercent,
    }),
  ];
  return { alarms, names, timeToDetectSeconds: timeToDetectSeconds(FAST_PERIOD_SECONDS, FAST_DATAPOINTS_TO_ALARM) };
}
