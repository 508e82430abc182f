import { Duration } from 'aws-cdk-lib';
import { durationInSeconds, validateWholeNumber } from './private/validation';

/** Options of a promotion schedule. */
export interface CanaryPromotionOptions {
  /**
   * Time a step lasts before the next one may start. It must be at least as long as the slowest
   * rollback alarm needs to fire, so that every step has been judged before traffic grows.
   */
  readonly interval: Duration;
  /**
   * Requests the candidate must have served during a step before it moves on: a quiet hour is
   * no evidence that the candidate is good.
   * @default 100
   */
  readonly minInvocations?: number;
  /**
   * A manual gate: when the rollout reaches this step (a percent from `steps`, below 100) it waits
   * there until a person runs `npx cdk-sagemaker-rollout promote <endpoint>`.
   * @default - no manual gate
   */
  readonly approvalAt?: number;
}

/** The promotion schedule as the controller reads it. */
export interface PromotionSchedule {
  readonly steps: number[];
  readonly intervalSeconds: number;
  readonly minInvocations: number;
  readonly approvalAt?: number;
}

/**
 * A schedule that moves a canary's traffic up step by step (10 -> 25 -> 50 -> 100, say), one step
 * per interval, only while every rollback alarm of the candidate is OK and the candidate has served
 * enough requests; an alarm rolls it back to 0 % at any moment.
 */
export class CanaryPromotion {
  /** 10 -> 25 -> 50 -> 100 %, one step every 30 minutes, at least 100 requests per step. */
  public static readonly STEPS_10_25_50_100_EVERY_30_MINUTES = CanaryPromotion.steps([10, 25, 50, 100], { interval: Duration.minutes(30) });

  /** 10 -> 25 -> 50 -> 100 %, one step every hour, at least 100 requests per step. */
  public static readonly STEPS_10_25_50_100_EVERY_HOUR = CanaryPromotion.steps([10, 25, 50, 100], { interval: Duration.hours(1) });

  /** 5 -> 10 -> 25 -> 50 -> 100 %, one step every hour, waiting for a person at 50 %. */
  public static readonly STEPS_5_10_25_50_100_HOURLY_WITH_APPROVAL_AT_50 = CanaryPromotion.steps([5, 10, 25, 50, 100], { interval: Duration.hours(1), approvalAt: 50 });

  /**
   * The candidate's traffic goes through these percentages. The list rises and ends at 100. The
   * rollout starts at the candidate's `trafficPercent` and goes through the steps above it; steps at
   * or below it are already behind, so one schedule (a preset) fits any `trafficPercent`.
   */
  public static steps(steps: number[], options: CanaryPromotionOptions): CanaryPromotion {
    return new CanaryPromotion(steps, options);
  }

  private constructor(private readonly stepList: number[], private readonly options: CanaryPromotionOptions) {
    if (stepList.length === 0) {
      throw new Error('promotion steps must not be empty: give the percentages to go through, ending at 100');
    }
    stepList.forEach((step, i) => validateWholeNumber(`promotion step ${i + 1}`, step, 1, 100));
    for (let i = 1; i < stepList.length; i++) {
      if (stepList[i] <= stepList[i - 1]) {
        throw new Error(`promotion steps must rise, got ${stepList[i]} after ${stepList[i - 1]} in [${stepList.join(', ')}]`);
      }
    }
    if (stepList[stepList.length - 1] !== 100) {
      throw new Error(`promotion steps must end at 100, got [${stepList.join(', ')}]`);
    }
    durationInSeconds('promotion interval', options.interval, 60, 7 * 24 * 3600);
    validateWholeNumber('promotion minInvocations', options.minInvocations, 0);
    if (options.approvalAt !== undefined && (!stepList.includes(options.approvalAt) || options.approvalAt === 100)) {
      throw new Error(`promotion approvalAt must be one of the steps below 100 (${stepList.filter((s) => s < 100).join(', ')}), got ${options.approvalAt}`);
    }
  }

  /**
   * The schedule starting at the candidate's traffic percent: the steps above it, checked against
   * it and against the time the rollback alarms need to fire.
   * @internal
   */
  public _schedule(trafficPercent: number, alarmDetectionSeconds: number): PromotionSchedule {
    const approvalAt = this.options.approvalAt;
    if (approvalAt !== undefined && approvalAt < trafficPercent) {
      // Skipping the steps below the start is harmless; skipping a manual gate is not.
      throw new Error(`promotion approvalAt of ${approvalAt} is below the candidate's trafficPercent of ${trafficPercent}: the rollout starts above its manual gate `
        + `and would never wait there; start the canary at ${approvalAt} or below, or choose a gate of ${trafficPercent} or more`);
    }
    const intervalSeconds = this.options.interval.toSeconds();
    if (intervalSeconds < alarmDetectionSeconds) {
      throw new Error(`promotion interval of ${intervalSeconds} seconds is shorter than the ${alarmDetectionSeconds} seconds the slowest rollback alarm needs to fire: make it at least ${alarmDetectionSeconds} seconds`);
    }
    const steps = [trafficPercent, ...this.stepList.filter((step) => step > trafficPercent)];
    return {
      steps,
      intervalSeconds,
      minInvocations: this.options.minInvocations ?? 100,
      approvalAt,
    };
  }
}
