import { Annotations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { AlarmSetBinder, RollbackAlarmSet, RollbackAlarmTarget } from './alarm-set';
import { QualityGate, QualityGateOptions } from './quality';
import { RecommendedAlarms, RecommendedAlarmsOptions } from './recommended';
import { RelativeAlarms, RelativeAlarmsOptions } from './relative';
import { timeToDetectOf } from './time-to-detect';

/** SageMaker accepts at most 10 alarms in `AutoRollbackConfiguration` (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AutoRollbackConfig.html). */
export const MAX_ROLLBACK_ALARMS = 10;

/**
 * The CloudWatch alarms that roll a deployment back.
 *
 * `recommended()` creates alarms on whichever model is new (with `detection: Detection.FAST`,
 * also 10-second ones); `relative()` compares a canary with production at the same time;
 * `quality()` gates a canary on the team's own quality metric; `fromAlarms()` takes your own;
 * `combine()` joins sets; `none()` opts out, with a warning, because without alarms SageMaker
 * bakes for nothing and a canary is never rolled back. At most 10 alarms per endpoint.
 *
 * The class cannot be extended, in TypeScript or any other language: any alarm of your own comes
 * in through `fromAlarms()`.
 */
export class RollbackAlarms {
  /** Alarms on the 5xx rate, the model-error rate and, with `maxLatency`, the model latency of the new model. */
  public static recommended(options: RecommendedAlarmsOptions = {}): RollbackAlarms {
    return new RollbackAlarms(new RecommendedAlarms(options));
  }

  /**
   * Canary only: the candidate's error rate (and, with `maxLatencyIncreasePercent`, its latency)
   * against production's over the same periods. A failure of both variants does not roll back;
   * a failure of the candidate alone does. Rollback alarms, and so promotion gates too: a step
   * is taken only while they are not in ALARM.
   */
  public static relative(options: RelativeAlarmsOptions = {}): RollbackAlarms {
    return new RollbackAlarms(new RelativeAlarms(options));
  }

  /**
   * Canary only: the candidate's value of your own per-variant quality metric (dimensions exactly
   * `EndpointName` and `VariantName`) against production's, rolled back when it is worse by more
   * than `maxDropPercent`. A rollback alarm, and so a promotion gate too.
   */
  public static quality(options: QualityGateOptions): RollbackAlarms {
    return new RollbackAlarms(new QualityGate(options));
  }

  /**
   * Alarms you made yourself. They roll back whatever they watch: for a canary, make them watch
   * the candidate variant (`endpoint.metric...(candidateVariantName)`), or errors of production
   * would roll back a good candidate. Composite alarms are refused: CloudWatch shows them only to
   * callers allowed `cloudwatch:DescribeAlarms` on every alarm (`*`), and the library grants
   * SageMaker and its controller that action on the rollback alarms alone.
   */
  public static fromAlarms(alarms: cloudwatch.IAlarm[]): RollbackAlarms {
    for (const alarm of alarms) {
      if (alarm instanceof cloudwatch.CompositeAlarm) {
        throw new Error(`RollbackAlarms.fromAlarms takes metric alarms, got the composite alarm ${alarm.node.path}: CloudWatch returns a composite alarm only to a caller `
          + 'allowed cloudwatch:DescribeAlarms on every alarm (*), and SageMaker and the rollout controller are allowed it on the rollback alarms alone, '
          + 'so neither could see it; give the metric alarms it combines instead');
      }
    }
    return new RollbackAlarms(new GivenAlarms(alarms));
  }

  /** All alarms of several sets, for example `combine(recommended(), relative(), fromAlarms([businessAlarm]))`. */
  public static combine(...sets: RollbackAlarms[]): RollbackAlarms {
    return new RollbackAlarms(new CombinedAlarms(sets.flatMap((s) => s.parts())));
  }

  /** No rollback alarms at all. Warns at synth time: nothing then stops a bad model. */
  public static none(): RollbackAlarms {
    return new RollbackAlarms(new CombinedAlarms([]));
  }

  private constructor(private readonly binder: AlarmSetBinder) {}

  /**
   * Creates (or returns) the alarms for one target.
   * @internal
   */
  public _bind(scope: Construct, target: RollbackAlarmTarget): RollbackAlarmSet {
    return this.binder.bind(scope, target);
  }

  /** The sets a combination is made of, so that nested combinations bind in distinct scopes. */
  private parts(): AlarmSetBinder[] {
    return this.binder instanceof CombinedAlarms ? this.binder.sets : [this.binder];
  }
}

class GivenAlarms implements AlarmSetBinder {
  constructor(private readonly alarms: cloudwatch.IAlarm[]) {}

  public bind(): RollbackAlarmSet {
    let slowest = 0;
    let slowestAlarmName: string | undefined;
    for (const alarm of this.alarms) {
      const seconds = timeToDetectOf(alarm) ?? 0;
      if (seconds > slowest) {
        slowest = seconds;
        slowestAlarmName = alarm.node.path;
      }
    }
    return {
      alarms: [...this.alarms],
      names: this.alarms.map((a) => a.alarmName),
      sources: this.alarms.map(() => 'your own'),
      timeToDetectSeconds: slowest,
      slowestAlarmName,
    };
  }
}

class CombinedAlarms implements AlarmSetBinder {
  constructor(public readonly sets: AlarmSetBinder[]) {}

  public bind(scope: Construct, target: RollbackAlarmTarget): RollbackAlarmSet {
    if (this.sets.length === 0) {
      Annotations.of(scope).addWarningV2('cdk-sagemaker-rollout:noRollbackAlarms',
        `${target.description} has no rollback alarms: SageMaker bakes without watching anything and nothing rolls a bad model back.`);
    }
    // The first set keeps the construct ids it would have alone; the others get a scope each, so
    // two sets of the same kind never clash.
    const bound = this.sets.map((set, i) => set.bind(i === 0 ? scope : new Construct(scope, `AlarmSet${i + 1}`), target));
    const alarms: cloudwatch.IAlarm[] = [];
    const names: string[] = [];
    const sources: string[] = [];
    for (const b of bound) {
      b.alarms.forEach((alarm, i) => {
        if (!alarms.includes(alarm)) {
          alarms.push(alarm);
          names.push(b.names[i]);
          sources.push(b.sources[i]);
        }
      });
    }
    const slowest = bound.reduce<RollbackAlarmSet | undefined>((a, b) => (a === undefined || b.timeToDetectSeconds > a.timeToDetectSeconds ? b : a), undefined);
    const frequencies = bound.map((b) => b.metricPublishFrequencySeconds).filter((f): f is number => f !== undefined);
    return {
      alarms,
      names,
      sources,
      timeToDetectSeconds: slowest?.timeToDetectSeconds ?? 0,
      slowestAlarmName: slowest?.slowestAlarmName,
      metricPublishFrequencySeconds: frequencies.length > 0 ? Math.min(...frequencies) : undefined,
    };
  }
}

/**
 * SageMaker watches at most 10 alarms per endpoint: an error that counts them by kind and says
 * which to drop first (those whose loss costs the least protection).
 */
export function checkAlarmCount(set: RollbackAlarmSet): void {
  const count = set.alarms.length;
  if (count <= MAX_ROLLBACK_ALARMS) return;
  const byKind = new Map<string, number>();
  for (const s of set.sources) byKind.set(s, (byKind.get(s) ?? 0) + 1);
  const counts = [...byKind.entries()].map(([kind, n]) => `${n} ${kind}`).join(', ');
  const excess = count - MAX_ROLLBACK_ALARMS;
  const advice: string[] = [];
  if (byKind.has('fast detection')) advice.push(`the ${byKind.get('fast detection')} fast-detection alarms (detection: Detection.STANDARD keeps the one-minute alarms on the same errors)`);
  if (byKind.has('relative')) advice.push('the relative latency alarm (leave out maxLatencyIncreasePercent) or a second relative set');
  if (byKind.has('your own')) advice.push('some of your own alarms (watch several metrics with one metric-math alarm)');
  if (byKind.has('quality gate')) advice.push('a quality gate on a less important metric');
  if (byKind.has('recommended')) advice.push('the recommended latency alarm (leave out maxLatency)');
  throw new Error(`rollbackAlarms must be at most ${MAX_ROLLBACK_ALARMS} alarms (SageMaker's AutoRollbackConfiguration limit), got ${count} (${counts}): `
    + `drop ${excess}, for example ${advice.join('; or ')}`);
}
