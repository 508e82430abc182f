import { Duration } from 'aws-cdk-lib';
import { CfnEndpoint } from 'aws-cdk-lib/aws-sagemaker';
import { durationInSeconds, exactlyOne, validateWholeNumber } from './private/validation';

/**
 * Room for SageMaker to launch the new fleet and load the model, added to the waits when the
 * maximum execution time is computed. Instance launch plus model load usually takes minutes;
 * large models take longer (override `maxExecutionTime` for them).
 */
export const PROVISIONING_ALLOWANCE_SECONDS = 1800;
/** The same allowance for each batch of a rolling update, which provisions batch by batch. */
export const ROLLING_BATCH_PROVISIONING_SECONDS = 600;

/** Options of `TrafficShift.allAtOnce`. */
export interface AllAtOnceOptions {
  /**
   * How long the new fleet serves all traffic, watched by the rollback alarms, while the old fleet
   * stays ready to take it back (`TerminationWaitInSeconds`). Both fleets are billed meanwhile.
   * @default Duration.minutes(10)
   */
  readonly bake?: Duration;
  /**
   * Time after which SageMaker gives up and rolls back (`MaximumExecutionTimeoutInSeconds`, 600-28800 s).
   * @default - the bake plus 30 minutes for provisioning
   */
  readonly maxExecutionTime?: Duration;
}

/** Options of `TrafficShift.canary`. Give exactly one of `percent` and `instances`. */
export interface CanaryShiftOptions {
  /** Share of the fleet that takes traffic first, in percent of the variant's instances (1-50). */
  readonly percent?: number;
  /** Number of instances that take traffic first (at most half the variant's instances). */
  readonly instances?: number;
  /** How long the canary slice is watched before the rest of the traffic moves (0-3600 s). */
  readonly wait: Duration;
  /**
   * How long the new fleet is watched with all traffic before the old fleet is terminated (0-3600 s).
   * @default - the same as `wait`
   */
  readonly bake?: Duration;
  /** @default - wait + bake + 30 minutes for provisioning */
  readonly maxExecutionTime?: Duration;
}

/** Options of `TrafficShift.linear`. Give exactly one of `stepPercent` and `stepInstances`. */
export interface LinearShiftOptions {
  /** Share of the fleet moved per step, in percent of the variant's instances (10-50). */
  readonly stepPercent?: number;
  /** Number of instances moved per step (10-50 % of the variant's instances). */
  readonly stepInstances?: number;
  /** How long each step is watched before the next (0-3600 s). */
  readonly wait: Duration;
  /**
   * How long the new fleet is watched with all traffic before the old fleet is terminated (0-3600 s).
   * @default - the same as `wait`
   */
  readonly bake?: Duration;
  /** @default - steps x wait + bake + 30 minutes for provisioning */
  readonly maxExecutionTime?: Duration;
}

/**
 * Options of `TrafficShift.rolling`. Give exactly one of `batchPercent` and `batchInstances`, and
 * at most one of `rollbackBatchPercent` and `rollbackBatchInstances`.
 */
export interface RollingUpdateOptions {
  /** Share of the fleet replaced per batch, in percent of the variant's instances (5-50). */
  readonly batchPercent?: number;
  /** Number of instances replaced per batch (5-50 % of the variant's instances). */
  readonly batchInstances?: number;
  /** How long each batch is watched before the next (0-3600 s). */
  readonly wait: Duration;
  /**
   * Share of the old fleet brought back per batch on a rollback, in percent (1-100).
   * @default - 100: the whole old fleet comes back at once
   */
  readonly rollbackBatchPercent?: number;
  /** Number of old instances brought back per batch on a rollback. */
  readonly rollbackBatchInstances?: number;
  /** @default - batches x (wait + 10 minutes) + 30 minutes */
  readonly maxExecutionTime?: Duration;
}

/** What a traffic shift needs to know about the endpoint to render and check itself. */
export interface TrafficShiftContext {
  /** Instance counts of the instance-based variants, by variant name (serverless variants are absent). */
  readonly instanceCounts: Record<string, number>;
  /** Number of production variants. */
  readonly productionVariantCount: number;
  /** Whether any variant is serverless. */
  readonly serverless: boolean;
  /** The slowest rollback alarm's time to detect, in seconds; every watched window must be at least this long. */
  readonly alarmDetectionSeconds: number;
}

/** A rendered traffic shift. */
export interface RenderedTrafficShift {
  /** The `DeploymentConfig` without its `AutoRollbackConfiguration`. */
  readonly blueGreenUpdatePolicy?: CfnEndpoint.BlueGreenUpdatePolicyProperty;
  readonly rollingUpdatePolicy?: CfnEndpoint.RollingUpdatePolicyProperty;
  /** Warnings to show at synth time. */
  readonly warnings: string[];
}

/** One of SageMaker's update strategies: checks its options when made, and renders itself against an endpoint. */
interface ShiftStrategy {
  readonly kind: string;
  render(context: TrafficShiftContext): RenderedTrafficShift;
}

/** A capacity given as percent or instances, checked against every instance-based variant. */
interface Capacity {
  readonly prop: string;
  readonly percent?: number;
  readonly instances?: number;
  readonly minPercent: number;
  readonly maxPercent: number;
}

function validateCapacityShape(c: Capacity, percentProp: string, instancesProp: string): void {
  exactlyOne(`trafficShift.${percentProp}`, c.percent, `trafficShift.${instancesProp}`, c.instances);
  validateWholeNumber(`trafficShift.${percentProp}`, c.percent, c.minPercent, c.maxPercent);
  validateWholeNumber(`trafficShift.${instancesProp}`, c.instances, 1);
}

/**
 * The capacity must come to at least one whole instance and must not be the whole fleet, and an
 * instance count must be within the percent range SageMaker allows, for every variant.
 */
function checkCapacity(c: Capacity, instanceCounts: Record<string, number>): void {
  for (const [variant, count] of Object.entries(instanceCounts)) {
    if (c.percent !== undefined) {
      const instances = (c.percent * count) / 100;
      if (instances < 1) {
        throw new Error(`trafficShift.${c.prop} of ${c.percent}% of variant ${variant}'s ${count} instance(s) is ${round(instances)} instances: it must come to at least one whole instance; give more instances or a larger percent`);
      }
      if (instances >= count) {
        throw new Error(`trafficShift.${c.prop} of ${c.percent}% of variant ${variant}'s ${count} instance(s) is the whole fleet: use TrafficShift.allAtOnce, or give the variant more instances`);
      }
    } else if (c.instances !== undefined) {
      const percent = (c.instances * 100) / count;
      if (c.instances >= count) {
        throw new Error(`trafficShift.${c.prop} of ${c.instances} instance(s) is the whole of variant ${variant}'s ${count} instance(s): use TrafficShift.allAtOnce, or give the variant more instances`);
      }
      if (percent < c.minPercent || percent > c.maxPercent) {
        throw new Error(`trafficShift.${c.prop} of ${c.instances} instance(s) is ${round(percent)}% of variant ${variant}'s ${count} instances: it must be between ${c.minPercent}% and ${c.maxPercent}% of them`);
      }
    }
  }
}

function capacitySize(c: Capacity): CfnEndpoint.CapacitySizeProperty {
  return c.percent !== undefined ? { type: 'CAPACITY_PERCENT', value: c.percent } : { type: 'INSTANCE_COUNT', value: c.instances! };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Watched windows must last at least as long as the slowest alarm needs to fire (DESIGN.md, decisions). */
function checkWatchedWindow(prop: string, seconds: number, context: TrafficShiftContext): void {
  const needed = context.alarmDetectionSeconds;
  if (seconds < needed) {
    const fix = needed > MAX_WAIT_SECONDS
      ? `SageMaker waits at most ${MAX_WAIT_SECONDS} seconds, so make the alarms faster (a shorter period or fewer datapoints to alarm)`
      : `make it at least ${needed} seconds, or make the alarms faster`;
    throw new Error(`trafficShift.${prop} of ${seconds} seconds is shorter than the ${needed} seconds the slowest rollback alarm needs to fire (its time to detect): ${fix}`);
  }
}

/** The longest wait or bake SageMaker takes (`WaitIntervalInSeconds`, `TerminationWaitInSeconds`). */
export const MAX_WAIT_SECONDS = 3600;
/** The bake of the default traffic shift when the alarms fire sooner. */
export const DEFAULT_BAKE_SECONDS = 600;

/**
 * The traffic shift of an endpoint that sets none: all at once, then a bake of 10 minutes or the
 * slowest rollback alarm's time to detect, whichever is longer. Past SageMaker's 3600-second
 * limit an error says so with the numbers: the user set no trafficShift, but their alarms need a
 * longer watch than SageMaker can give.
 */
export function defaultTrafficShift(alarmTimeToDetectSeconds: number, slowestAlarm: string | undefined): TrafficShift {
  if (alarmTimeToDetectSeconds > MAX_WAIT_SECONDS) {
    throw new Error(`the slowest rollback alarm${slowestAlarm ? ` (${slowestAlarm})` : ''} needs ${alarmTimeToDetectSeconds} seconds to fire (its time to detect), `
      + `more than the ${MAX_WAIT_SECONDS} seconds SageMaker can bake a deployment (TerminationWaitInSeconds): give it a shorter period or fewer datapoints to alarm, `
      + `so that it fires within ${MAX_WAIT_SECONDS} seconds`);
  }
  return TrafficShift.allAtOnce({ bake: Duration.seconds(Math.max(DEFAULT_BAKE_SECONDS, alarmTimeToDetectSeconds)) });
}

/**
 * `MaximumExecutionTimeoutInSeconds`: the given value, which must cover every wait, or the waits
 * plus the provisioning allowance, within SageMaker's 600-28800 seconds.
 */
function maxExecutionSeconds(given: Duration | undefined, waitSeconds: number, allowanceSeconds: number = PROVISIONING_ALLOWANCE_SECONDS): number {
  const seconds = durationInSeconds('trafficShift.maxExecutionTime', given, 600, 28800);
  if (seconds !== undefined) {
    if (seconds <= waitSeconds) {
      throw new Error(`trafficShift.maxExecutionTime of ${seconds} seconds does not cover the waits and bake of ${waitSeconds} seconds: make it longer`);
    }
    return seconds;
  }
  const computed = waitSeconds + allowanceSeconds;
  if (computed > 28800) {
    throw new Error(`the traffic shift needs ${computed} seconds with room for provisioning, more than SageMaker's maximum of 28800: shorten the waits or use fewer steps`);
  }
  return Math.max(600, computed);
}

function serverlessWarning(context: TrafficShiftContext, kind: string): string[] {
  return context.serverless
    ? [`Serverless endpoints only support all-at-once updates: SageMaker ignores the ${kind} traffic shift and moves all traffic at once.`]
    : [];
}

class AllAtOnceShift implements ShiftStrategy {
  public readonly kind = 'all-at-once';

  constructor(private readonly options: AllAtOnceOptions) {
    durationInSeconds('trafficShift.bake', options.bake, 0, 3600);
    durationInSeconds('trafficShift.maxExecutionTime', options.maxExecutionTime, 600, 28800);
  }

  public render(context: TrafficShiftContext): RenderedTrafficShift {
    const bake = durationInSeconds('trafficShift.bake', this.options.bake ?? Duration.minutes(10), 0, 3600)!;
    checkWatchedWindow('bake', bake, context);
    return {
      blueGreenUpdatePolicy: {
        // ALL_AT_ONCE bakes in TerminationWaitInSeconds; WaitIntervalInSeconds is required by the
        // API but only separates incremental steps, so it is 0 here
        // (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-blue-green-all-at-once.html,
        // https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html).
        trafficRoutingConfiguration: { type: 'ALL_AT_ONCE', waitIntervalInSeconds: 0 },
        terminationWaitInSeconds: bake,
        maximumExecutionTimeoutInSeconds: maxExecutionSeconds(this.options.maxExecutionTime, bake),
      },
      warnings: [],
    };
  }
}

class CanaryShift implements ShiftStrategy {
  public readonly kind = 'canary';
  private readonly capacity: Capacity;

  constructor(private readonly options: CanaryShiftOptions) {
    this.capacity = { prop: options.percent !== undefined ? 'percent' : 'instances', percent: options.percent, instances: options.instances, minPercent: 1, maxPercent: 50 };
    validateCapacityShape(this.capacity, 'percent', 'instances');
    durationInSeconds('trafficShift.wait', options.wait, 0, 3600);
    durationInSeconds('trafficShift.bake', options.bake, 0, 3600);
  }

  public render(context: TrafficShiftContext): RenderedTrafficShift {
    checkCapacity(this.capacity, context.instanceCounts);
    const wait = durationInSeconds('trafficShift.wait', this.options.wait, 0, 3600)!;
    const bake = durationInSeconds('trafficShift.bake', this.options.bake ?? this.options.wait, 0, 3600)!;
    checkWatchedWindow('wait', wait, context);
    checkWatchedWindow('bake', bake, context);
    return {
      blueGreenUpdatePolicy: {
        trafficRoutingConfiguration: { type: 'CANARY', canarySize: capacitySize(this.capacity), waitIntervalInSeconds: wait },
        terminationWaitInSeconds: bake,
        maximumExecutionTimeoutInSeconds: maxExecutionSeconds(this.options.maxExecutionTime, wait + bake),
      },
      warnings: serverlessWarning(context, this.kind),
    };
  }
}

class LinearShift implements ShiftStrategy {
  public readonly kind = 'linear';
  private readonly capacity: Capacity;

  constructor(private readonly options: LinearShiftOptions) {
    this.capacity = { prop: options.stepPercent !== undefined ? 'stepPercent' : 'stepInstances', percent: options.stepPercent, instances: options.stepInstances, minPercent: 10, maxPercent: 50 };
    validateCapacityShape(this.capacity, 'stepPercent', 'stepInstances');
    durationInSeconds('trafficShift.wait', options.wait, 0, 3600);
    durationInSeconds('trafficShift.bake', options.bake, 0, 3600);
  }

  public render(context: TrafficShiftContext): RenderedTrafficShift {
    checkCapacity(this.capacity, context.instanceCounts);
    const wait = durationInSeconds('trafficShift.wait', this.options.wait, 0, 3600)!;
    const bake = durationInSeconds('trafficShift.bake', this.options.bake ?? this.options.wait, 0, 3600)!;
    checkWatchedWindow('wait', wait, context);
    checkWatchedWindow('bake', bake, context);
    const steps = Math.max(...Object.values(context.instanceCounts).map((count) => stepsToMoveAll(this.capacity, count)), 1);
    return {
      blueGreenUpdatePolicy: {
        trafficRoutingConfiguration: { type: 'LINEAR', linearStepSize: capacitySize(this.capacity), waitIntervalInSeconds: wait },
        terminationWaitInSeconds: bake,
        maximumExecutionTimeoutInSeconds: maxExecutionSeconds(this.options.maxExecutionTime, steps * wait + bake),
      },
      warnings: serverlessWarning(context, this.kind),
    };
  }
}

class RollingShift implements ShiftStrategy {
  public readonly kind = 'rolling';
  private readonly batch: Capacity;
  private readonly rollbackBatch?: Capacity;

  constructor(private readonly options: RollingUpdateOptions) {
    this.batch = { prop: options.batchPercent !== undefined ? 'batchPercent' : 'batchInstances', percent: options.batchPercent, instances: options.batchInstances, minPercent: 5, maxPercent: 50 };
    validateCapacityShape(this.batch, 'batchPercent', 'batchInstances');
    if (options.rollbackBatchPercent !== undefined && options.rollbackBatchInstances !== undefined) {
      throw new Error('give at most one of trafficShift.rollbackBatchPercent and trafficShift.rollbackBatchInstances, got both');
    }
    validateWholeNumber('trafficShift.rollbackBatchPercent', options.rollbackBatchPercent, 1, 100);
    validateWholeNumber('trafficShift.rollbackBatchInstances', options.rollbackBatchInstances, 1);
    if (options.rollbackBatchPercent !== undefined || options.rollbackBatchInstances !== undefined) {
      this.rollbackBatch = { prop: 'rollbackBatch', percent: options.rollbackBatchPercent, instances: options.rollbackBatchInstances, minPercent: 1, maxPercent: 100 };
    }
    durationInSeconds('trafficShift.wait', options.wait, 0, 3600);
  }

  public render(context: TrafficShiftContext): RenderedTrafficShift {
    if (context.serverless) {
      throw new Error('trafficShift rolling is not available for serverless variants: use TrafficShift.allAtOnce');
    }
    if (context.productionVariantCount > 1) {
      throw new Error(`trafficShift rolling needs exactly one production variant, got ${context.productionVariantCount}: SageMaker refuses rolling updates of multi-variant endpoints; use a blue/green shift (allAtOnce, canary or linear)`);
    }
    checkCapacity(this.batch, context.instanceCounts);
    const wait = durationInSeconds('trafficShift.wait', this.options.wait, 0, 3600)!;
    checkWatchedWindow('wait', wait, context);
    const batches = Math.max(...Object.values(context.instanceCounts).map((count) => stepsToMoveAll(this.batch, count)), 1);
    return {
      rollingUpdatePolicy: {
        maximumBatchSize: capacitySize(this.batch),
        waitIntervalInSeconds: wait,
        rollbackMaximumBatchSize: this.rollbackBatch ? capacitySize(this.rollbackBatch) : undefined,
        maximumExecutionTimeoutInSeconds: maxExecutionSeconds(this.options.maxExecutionTime, batches * wait, batches * ROLLING_BATCH_PROVISIONING_SECONDS + PROVISIONING_ALLOWANCE_SECONDS),
      },
      warnings: [],
    };
  }
}

/** How many steps of the given size move a fleet of `count` instances. */
function stepsToMoveAll(c: Capacity, count: number): number {
  const perStep = c.percent !== undefined ? Math.max(1, Math.floor((c.percent * count) / 100)) : c.instances!;
  return Math.ceil(count / perStep);
}

/**
 * How SageMaker applies a change of the endpoint configuration (deployment guardrails).
 *
 * Blue/green shifts (`allAtOnce`, `canary`, `linear`) build a complete new fleet, move traffic to
 * it and keep the old fleet until the bake ends: both fleets are billed for the whole update, and
 * a rollback is an instant switch back. `rolling` replaces the fleet batch by batch: fewer extra
 * instances, but a rollback must provision the old fleet again.
 *
 * Get one from the static factories or the named presets. The class cannot be extended, in
 * TypeScript or any other language: SageMaker knows exactly these four shifts.
 */
export class TrafficShift {
  /** All traffic at once, then a 10-minute bake. The default. */
  public static readonly ALL_AT_ONCE = TrafficShift.allAtOnce({ bake: Duration.minutes(10) });
  /** 10 % of the instances first, watched for 5 minutes, then the rest, baked 5 minutes. */
  public static readonly CANARY_10PERCENT_5MINUTES = TrafficShift.canary({ percent: 10, wait: Duration.minutes(5) });
  /** 10 % of the instances first, watched for 10 minutes, then the rest, baked 10 minutes. */
  public static readonly CANARY_10PERCENT_10MINUTES = TrafficShift.canary({ percent: 10, wait: Duration.minutes(10) });
  /** One instance first, watched for 10 minutes, then the rest, baked 10 minutes. */
  public static readonly CANARY_ONE_INSTANCE_10MINUTES = TrafficShift.canary({ instances: 1, wait: Duration.minutes(10) });
  /** 20 % of the instances every 5 minutes, then a 5-minute bake. */
  public static readonly LINEAR_20PERCENT_EVERY_5MINUTES = TrafficShift.linear({ stepPercent: 20, wait: Duration.minutes(5) });
  /** 10 % of the instances every 10 minutes, then a 10-minute bake. */
  public static readonly LINEAR_10PERCENT_EVERY_10MINUTES = TrafficShift.linear({ stepPercent: 10, wait: Duration.minutes(10) });
  /** Replace 25 % of the instances at a time, watching each batch for 5 minutes. */
  public static readonly ROLLING_25PERCENT_EVERY_5MINUTES = TrafficShift.rolling({ batchPercent: 25, wait: Duration.minutes(5) });

  /** Blue/green, all traffic at once, then a bake. */
  public static allAtOnce(options: AllAtOnceOptions = {}): TrafficShift {
    return new TrafficShift(new AllAtOnceShift(options));
  }

  /** Blue/green, a slice first, then the rest. */
  public static canary(options: CanaryShiftOptions): TrafficShift {
    return new TrafficShift(new CanaryShift(options));
  }

  /** Blue/green, in equal steps. */
  public static linear(options: LinearShiftOptions): TrafficShift {
    return new TrafficShift(new LinearShift(options));
  }

  /** Rolling: the fleet is replaced batch by batch. One production variant, instance-based only. */
  public static rolling(options: RollingUpdateOptions): TrafficShift {
    return new TrafficShift(new RollingShift(options));
  }

  /** A short name for messages and docs: "all-at-once", "canary", "linear" or "rolling". */
  public readonly kind: string;

  // The presets above are built while this class is defined, so the strategies (defined above it)
  // must not extend it: the class holds one instead.
  private constructor(private readonly strategy: ShiftStrategy) {
    this.kind = strategy.kind;
  }

  /**
   * Checks the shift against the endpoint and renders it.
   * @internal
   */
  public _render(context: TrafficShiftContext): RenderedTrafficShift {
    return this.strategy.render(context);
  }
}
