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
  let total = 0;
  let next: string | undefined;
  do {
    const out = await cloudwatch.send(new GetMetricDataCommand({
      StartTime: start,
      EndTime: end,
      NextToken: next,
      MetricDataQueries: [{
        Id: 'invocations',
        MetricStat: {
          Metric: {
            Namespace: 'AWS/SageMaker',
            MetricName: 'Invocations',
            Dimensions: [{ Name: 'EndpointName', Value: endpointName }, { Name: 'VariantName', Value: variantName }],
          },
          Period: 60,
          Stat: 'Sum',
        },
      }],
    }));
    for (const result of out.MetricDataResults ?? []) {
      for (const value of result.Values ?? []) total += value;
    }
    next = out.NextToken;
  } while (next);
  return total;
}
