import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';

/** Alarm name -> state (OK, ALARM, INSUFFICIENT_DATA); alarms that do not exist are reported as MISSING. */
export async function alarmStates(cloudwatch: CloudWatchClient, alarmNames: string[]): Promise<Record<string, string>> {
  const states: Record<string, string> = {};
  for (const name of alarmNames) states[name] = 'MISSING';
  // DescribeAlarms takes at most 100 names per call.
  for (let i = 0; i < alarmNames.length; i += 100) {
    let next: string | undefined;
    do {
      const out = await cloudwatch.send(new DescribeAlarmsCommand({
        AlarmNames: alarmNames.slice(i, i + 100),
        AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
        NextToken: next,
      }));
      for (const alarm of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
        if (alarm.AlarmName) states[alarm.AlarmName] = alarm.StateValue ?? 'INSUFFICIENT_DATA';
      }
      next = out.NextToken;
    } while (next);
  }
  return states;
}

/**
 * Requests a variant served between two times (`Invocations`, Sum), read in one-minute periods.
 * Periods without data count as no requests.
 */
export async function invocationsBetween(cloudwatch: CloudWatchClient, endpointName: string, variantName: string, start: Date, end: Date): Promise<number> {
  if (end <= start) return 0;
  const { Sum } = await variantMetricValues(cloudwatch, { endpointName, variantName, metricName: 'Invocations', statistics: ['Sum'], start, end });
  return Sum.reduce((a, b) => a + b, 0);
}

/** One metric of one variant, in SageMaker's `AWS/SageMaker` namespace, over a time window. */
export interface VariantMetricQuery {
  readonly endpointName: string;
  readonly variantName: string;
  readonly metricName: string;
  readonly statistics: readonly string[];
  readonly start: Date;
  readonly end: Date;
}

/**
 * The metric's one-minute values for each statistic, every page of them: periods without data
 * have no value. One GetMetricData call per page, all statistics together.
 */
export async function variantMetricValues(cloudwatch: CloudWatchClient, query: VariantMetricQuery): Promise<Record<string, number[]>> {
  const values: Record<string, number[]> = {};
  for (const stat of query.statistics) values[stat] = [];
  // Query ids must start with a lower-case letter and be unique; statistics such as p99 are not valid ids.
  const ids = query.statistics.map((_, i) => `s${i}`);
  let next: string | undefined;
  do {
    const out = await cloudwatch.send(new GetMetricDataCommand({
      StartTime: query.start,
      EndTime: query.end,
      NextToken: next,
      MetricDataQueries: query.statistics.map((stat, i) => ({
        Id: ids[i],
        MetricStat: {
          Metric: {
            Namespace: 'AWS/SageMaker',
            MetricName: query.metricName,
            Dimensions: [{ Name: 'EndpointName', Value: query.endpointName }, { Name: 'VariantName', Value: query.variantName }],
          },
          Period: 60,
          Stat: stat,
        },
      })),
    }));
    for (const result of out.MetricDataResults ?? []) {
      const stat = query.statistics[ids.indexOf(result.Id ?? '')];
      if (stat !== undefined) values[stat].push(...(result.Values ?? []));
    }
    next = out.NextToken;
  } while (next);
  return values;
}
