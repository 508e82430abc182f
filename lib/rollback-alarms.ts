import { Annotations, Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import * as metrics from './metrics';
import { validateNumberInRange, validateWholeNumber } from './private/validation';

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
   * Number of periods an alarm looks at. Detection takes at most `period x evaluationPeriods`.
   * @default 3
   */
  readonly evaluationPeriods?: number;
  /**
   * How many of those periods must breach ("M out of N"), so one bad minute is not a rollback.
   * @default 2
   */
  readonly datapointsToAlarm?: number;
  /**
   * Low-traffic guard: a period with fewer requests than this is judged on `minErrors` alone, so
   * three errors in five requests do not read as a 60 % error rate.
   * @default 20
   */
  readonly minInvocations?: number;
  /**
   * A period with at least this many errors is judged even when it has fewer than
   * `minInvocations` requests, so that low traffic cannot hide a model that fails every request.
   * @default 5
   */
  readonly minErrors?: number;
}

/** Which fleet the alarms of an endpoint watch, and how they are named. */
export interface RollbackAlarmTarget extends metrics.VariantMetricTarget {
  /** Prefix of every alarm name; the stack's rules match alarms by it. */
  readonly alarmNamePrefix: string;
  /** Text used in descriptions: what the alarm protects, for example "the canary variant". */
  readonly description: string;
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

/** SageMaker accepts at most 10 alarms in `AutoRollbackConfiguration` (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AutoRollbackConfig.html). */
export const MAX_ROLLBACK_ALARMS = 10;

/**
 * The CloudWatch alarms that roll a deployment back.
 *
 * `recommended()` creates alarms on whichever model is new; `fromAlarms()` takes your own (a
 * business KPI, say); `combine()` joins sets; `none()` opts out, with a warning, because without
 * alarms SageMaker bakes for nothing and a canary is never rolled back.
 *
 * The class cannot be extended, in TypeScript or any other language: any alarm of your own,
 * including a composite one, comes in through `fromAlarms()`.
 */
export class RollbackAlarms {
  /** Alarms on the 5xx rate, the model-error rate and, with `maxLatency`, the model latency of the new model. */
  public static recommended(options: RecommendedAlarmsOptions = {}): RollbackAlarms {
    return new RollbackAlarms(new RecommendedAlarms(options));
  }

  /**
   * Alarms you made yourself. They roll back whatever they watch: for a canary, make them watch
   * the candidate variant (`endpoint.metric...(candidateVariantName)`), or errors of production
   * would roll back a good candidate.
   */
  public static fromAlarms(alarms: cloudwatch.IAlarm[]): RollbackAlarms {
    return new RollbackAlarms(new GivenAlarms(alarms));
  }

  /** All alarms of several sets, for example `combine(recommended(), fromAlarms([businessAlarm]))`. */
  public static combine(...sets: RollbackAlarms[]): RollbackAlarms {
    return new RollbackAlarms(new CombinedAlarms(sets));
  }

  /** No rollback alarms at all. Warns at synth time: nothing then stops a bad model. */
  public static none(): RollbackAlarms {
    return new RollbackAlarms(new CombinedAlarms([]));
  }

  private constructor(private readonly source: AlarmSource) {}

  /**
   * Creates (or returns) the alarms for one target.
   * @internal
   */
  public _bind(scope: Construct, target: RollbackAlarmTarget): RollbackAlarmSet {
    return this.source.bind(scope, target);
  }
}

/** Where a set of rollback alarms comes from: made here, given, or several sets joined. */
interface AlarmSource {
  bind(scope: Construct, target: RollbackAlarmTarget): RollbackAlarmSet;
}

/** The alarms of a set, and the longest time any of them needs to fire. */
export interface RollbackAlarmSet {
  /** The alarms. */
  readonly alarms: cloudwatch.IAlarm[];
  /**
   * Their names, in the same order: literal strings for the alarms this library creates (their
   * `alarmName` attribute is a reference, which would tie every user of the name to the alarm).
   */
  readonly names: string[];
  /**
   * The longest `period x evaluationPeriods` among alarms whose configuration is known here;
   * bakes must last at least this long. Zero when no alarm's configuration is known.
   */
  readonly detectionSeconds: number;
}

class RecommendedAlarms implements AlarmSource {
  constructor(private readonly options: RecommendedAlarmsOptions) {
    validateNumberInRange('rollbackAlarms.maxErrorRatePercent', options.maxErrorRatePercent, 0, 100);
    validateNumberInRange('rollbackAlarms.maxModelErrorRatePercent', options.maxModelErrorRatePercent, 0, 100);
    validateWholeNumber('rollbackAlarms.evaluationPeriods', options.evaluationPeriods, 1, 10);
    validateWholeNumber('rollbackAlarms.datapointsToAlarm', options.datapointsToAlarm, 1, options.evaluationPeriods ?? RECOMMENDED_DEFAULTS.evaluationPeriods);
    validateWholeNumber('rollbackAlarms.minInvocations', options.minInvocations, 0);
    validateWholeNumber('rollbackAlarms.minErrors', options.minErrors, 0);
    if (options.period && !options.period.isUnresolved()) {
      const seconds = options.period.toSeconds({ integral: false });
      if (![60, 120, 180, 240, 300, 600, 900, 1200, 1800, 3600].includes(seconds)) {
        throw new Error(`rollbackAlarms.period must be a whole number of minutes that divides an hour (1, 2, 3, 4, 5, 10, 15, 20, 30 or 60), got ${options.period.toHumanString()}`);
      }
    }
    if (options.maxLatency && !options.maxLatency.isUnresolved() && options.maxLatency.toMilliseconds({ integral: false }) < 1) {
      throw new Error(`rollbackAlarms.maxLatency must be at least 1 millisecond, got ${options.maxLatency.toHumanString()}`);
    }
    const stat = options.latencyStatistic;
    if (stat !== undefined && !Token.isUnresolved(stat) && !/^(Average|Maximum|Minimum|p\d{1,2}(\.\d+)?)$/.test(stat)) {
      throw new Error(`rollbackAlarms.latencyStatistic must be Average, Minimum, Maximum or a percentile such as p99, got "${stat}"`);
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
        alarmName: names[2],
        alarmDescription: `Rolls back ${target.description} when its ${statistic} model latency exceeds ${o.maxLatency.toHumanString()} (${metrics.latencyThresholdMicros(o.maxLatency)} microseconds, the unit of ModelLatency) in ${detection}, in periods with at least ${minInvocations} requests.`,
        metric: new cloudwatch.MathExpression({
          expression: `IF(invocations >= ${minInvocations}, latency, 0)`,
          usingMetrics: {
            invocations: metrics.invocations(target, { period }),
            latency: metrics.modelLatency(target, { period, statistic }),
          },
          period,
          label: `ModelLatency ${statistic} (microseconds)`,
        }),
        threshold: metrics.latencyThresholdMicros(o.maxLatency),
      }));
    }
    return { alarms, names, detectionSeconds: period.toSeconds() * evaluationPeriods };
  }
}

class GivenAlarms implements AlarmSource {
  constructor(private readonly alarms: cloudwatch.IAlarm[]) {}

  public bind(): RollbackAlarmSet {
    return { alarms: [...this.alarms], names: this.alarms.map((a) => a.alarmName), detectionSeconds: Math.max(0, ...this.alarms.map(detectionSecondsOf)) };
  }
}

class CombinedAlarms implements AlarmSource {
  constructor(private readonly sets: RollbackAlarms[]) {}

  public bind(scope: Construct, target: RollbackAlarmTarget): RollbackAlarmSet {
    if (this.sets.length === 0) {
      Annotations.of(scope).addWarningV2('cdk-sagemaker-rollout:noRollbackAlarms',
        `${target.description} has no rollback alarms: SageMaker bakes without watching anything and nothing rolls a bad model back.`);
    }
    const bound = this.sets.map((set, i) => set._bind(i === 0 ? scope : new Construct(scope, `AlarmSet${i + 1}`), target));
    const alarms: cloudwatch.IAlarm[] = [];
    const names: string[] = [];
    for (const b of bound) {
      b.alarms.forEach((alarm, i) => {
        if (!alarms.includes(alarm)) {
          alarms.push(alarm);
          names.push(b.names[i]);
        }
      });
    }
    return { alarms, names, detectionSeconds: Math.max(0, ...bound.map((b) => b.detectionSeconds)) };
  }
}

/**
 * `period x evaluationPeriods` of an alarm made with `new cloudwatch.Alarm`, read from its
 * CloudFormation resource; 0 when it cannot be known here (imported alarms, composite alarms).
 */
export function detectionSecondsOf(alarm: cloudwatch.IAlarm): number {
  const resource = alarm.node.defaultChild as cloudwatch.CfnAlarm | undefined;
  if (!resource || !(resource instanceof cloudwatch.CfnAlarm)) return 0;
  const evaluationPeriods = resource.evaluationPeriods;
  const period = resource.period ?? maxMetricPeriod(resource);
  if (typeof evaluationPeriods !== 'number' || typeof period !== 'number') return 0;
  return evaluationPeriods * period;
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

/** Alarm names are at most 255 characters; the target's prefix keeps them matchable by the stack's rule. */
export function alarmName(target: RollbackAlarmTarget, suffix: string): string {
  const name = `${target.alarmNamePrefix}${target.endpointName}-${target.variantName}-${suffix}`;
  if (!Token.isUnresolved(name) && name.length > 255) {
    throw new Error(`alarm name must be at most 255 characters, got ${name.length} ("${name}"): shorten the endpoint or variant name`);
  }
  return name;
}
