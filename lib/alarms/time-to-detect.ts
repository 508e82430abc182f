import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/**
 * Time to detect: the worst case, from the moment a new model starts failing every request, until
 * one of its rollback alarms is in ALARM.
 *
 *     timeToDetect = period x (datapointsToAlarm + 1) + evaluationInterval
 *
 * - `datapointsToAlarm x period`: the alarm needs that many breaching datapoints. A fully broken
 *   model breaches every period, so the "M out of N" window (`evaluationPeriods`) adds nothing.
 * - `+ 1 period`: the failure may start just after a period began; that first, partly bad period
 *   may not breach (the low-traffic guard, or a threshold above the bad share), so it is counted
 *   as lost.
 * - `+ evaluationInterval`: CloudWatch evaluates an alarm every minute, or every 10 seconds when its
 *   period is 10 or 30 seconds ("If the alarm period is 10 seconds or 30 seconds, the alarm is
 *   evaluated every 10 seconds", https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html),
 *   so a breach may wait that long to be seen.
 *
 * Not counted, because no AWS source gives a number: the delay between a request and SageMaker's
 * datapoint reaching CloudWatch, and the time from ALARM to traffic moving (SageMaker's rollback,
 * or the controller's weight change, which takes seconds). Those are for the real-account suite.
 *
 * With the defaults: 60 s periods, 2 of 3: 60 x 3 + 60 = 240 s. Fast detection: 10 s periods,
 * 2 of 3: 10 x 3 + 10 = 40 s.
 */
export function timeToDetectSeconds(periodSeconds: number, datapointsToAlarm: number): number {
  return periodSeconds * (datapointsToAlarm + 1) + evaluationIntervalSeconds(periodSeconds);
}

/** How often CloudWatch evaluates an alarm with this period (see `timeToDetectSeconds`). */
export function evaluationIntervalSeconds(periodSeconds: number): number {
  return periodSeconds < 60 ? 10 : 60;
}

/**
 * The time to detect of an alarm made with `new cloudwatch.Alarm`, read from its CloudFormation
 * resource; undefined when it cannot be known here (imported alarms, tokens).
 */
export function timeToDetectOf(alarm: cloudwatch.IAlarm): number | undefined {
  const resource = alarm.node.defaultChild;
  if (!(resource instanceof cloudwatch.CfnAlarm)) return undefined;
  const evaluationPeriods = resource.evaluationPeriods;
  const datapoints = resource.datapointsToAlarm ?? evaluationPeriods;
  const period = resource.period ?? maxMetricPeriod(resource);
  if (typeof datapoints !== 'number' || typeof period !== 'number') return undefined;
  return timeToDetectSeconds(period, datapoints);
}

function maxMetricPeriod(resource: cloudwatch.CfnAlarm): number | undefined {
  const queries = resource.metrics;
  if (!Array.isArray(queries)) return undefined;
  const periods = queries
    .map((q) => (q as cloudwatch.CfnAlarm.MetricDataQueryProperty))
    .map((q) => q.period ?? (q.metricStat as cloudwatch.CfnAlarm.MetricStatProperty | undefined)?.period)
    .filter((p): p is number => typeof p === 'number');
  return periods.length > 0 ? Math.max(...periods) : undefined;
}
