import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { VariantMetricTarget } from '../metrics';

/**
 * What every kind of alarm set shares: the fleet its alarms watch, the set they make, and the
 * name rules. No construct code of a particular kind lives here, so that each kind (recommended,
 * relative, quality) sits in a file of its own without import cycles.
 */

/** Which fleet the alarms of an endpoint watch, and how they are named. */
export interface RollbackAlarmTarget extends VariantMetricTarget {
  /** Prefix of every alarm name; the stack's rules match alarms by it. */
  readonly alarmNamePrefix: string;
  /** Text used in descriptions: what the alarm protects, for example "the canary variant". */
  readonly description: string;
  /**
   * The live production variant the target can be compared with at the same time. Set only when
   * the target is a canary candidate (two live variants); relative and quality gates need it.
   * @default - no second live variant
   */
  readonly productionVariantName?: string;
  /**
   * Whether the target is a shadow variant (its answers never reach users).
   * @default false
   */
  readonly shadow?: boolean;
  /**
   * Whether the endpoint runs serverless variants (no enhanced metrics).
   * @default false
   */
  readonly serverless?: boolean;
}

/** The alarms of a set, what each of them is, and the longest time any of them needs to fire. */
export interface RollbackAlarmSet {
  /** The alarms. */
  readonly alarms: cloudwatch.IAlarm[];
  /**
   * Their names, in the same order: literal strings for the alarms this library creates (their
   * `alarmName` attribute is a reference, which would tie every user of the name to the alarm).
   */
  readonly names: string[];
  /**
   * What each alarm is, in the same order: `recommended`, `fast detection`, `relative`,
   * `quality gate` or `your own`. The 10-alarm limit's message counts them.
   */
  readonly sources: string[];
  /**
   * Worst-case time, in seconds, for a fully broken new model to trip the slowest of these alarms
   * (README, "How fast a bad model is caught"); 0 when no alarm's configuration is known here.
   * Bakes, waits and promotion intervals must last at least this long.
   */
  readonly timeToDetectSeconds: number;
  /**
   * The name of that slowest alarm, for messages.
   * @default - none known
   */
  readonly slowestAlarmName?: string;
  /**
   * The interval at which the alarms need SageMaker to publish invocation metrics, in seconds
   * (10 for fast detection, which turns on enhanced metrics in the endpoint config).
   * @default - SageMaker's default of 60 seconds
   */
  readonly metricPublishFrequencySeconds?: number;
}

/** A kind of alarm set: creates its alarms for one target. */
export interface AlarmSetBinder {
  bind(scope: Construct, target: RollbackAlarmTarget): RollbackAlarmSet;
}

/**
 * An error about the alarms of a target. Raised while the endpoint is built, whose constructor
 * starts every message with its construct path.
 */
export function targetError(_target: RollbackAlarmTarget, message: string): Error {
  return new Error(message);
}

/** Names given so far, per target: two sets of the same kind in one endpoint must not share a name. */
const NAMES_IN_USE = new WeakMap<RollbackAlarmTarget, Set<string>>();

/**
 * The name of one of the library's alarms: the target's prefix (which keeps it matchable by the
 * stack's rule), endpoint, variant and `suffix`. A suffix already taken on this target (two
 * relative sets, or two quality gates on the same metric and statistic) gets `-2`, `-3`...
 * in the order the sets were given, so names stay deterministic across synths.
 */
export function alarmName(target: RollbackAlarmTarget, suffix: string): string {
  const used = NAMES_IN_USE.get(target) ?? new Set<string>();
  NAMES_IN_USE.set(target, used);
  let candidate = suffix;
  for (let n = 2; used.has(candidate); n++) candidate = `${suffix}-${n}`;
  used.add(candidate);
  const name = `${target.alarmNamePrefix}${target.endpointName}-${target.variantName}-${candidate}`;
  if (!Token.isUnresolved(name) && name.length > 255) {
    throw new Error(`alarm name must be at most 255 characters, got ${name.length} ("${name}"): shorten the endpoint or variant name`);
  }
  return name;
}

/** A name part from user input: letters, digits, dots, underscores and hyphens only. */
export function namePart(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
}

/** CloudWatch periods our rollback alarms accept: whole minutes that divide an hour, in seconds. */
const ALARM_PERIOD_SECONDS = [60, 120, 180, 240, 300, 600, 900, 1200, 1800, 3600];

/** Refuses an alarm period that is not a whole number of minutes dividing an hour (tokens are skipped). */
export function validateAlarmPeriod(prop: string, period: Duration | undefined): void {
  if (!period || period.isUnresolved()) return;
  if (!ALARM_PERIOD_SECONDS.includes(period.toSeconds({ integral: false }))) {
    throw new Error(`${prop} must be a whole number of minutes that divides an hour (1, 2, 3, 4, 5, 10, 15, 20, 30 or 60), got ${period.toHumanString()}`);
  }
}
