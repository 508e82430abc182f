import { CanaryPromotion } from './canary-promotion';
import { InstanceType } from './instance-type';
import { IModel } from './model';
import { validateNumberInRange, validateWholeNumber } from './private/validation';
import { RollbackAlarms } from './alarms/rollback-alarms';
import { VariantAutoScalingOptions } from './scaling/auto-scaling-options';

/** What kind of candidate. */
export enum CandidateKind {
  /** Serves a share of live traffic as a second production variant. */
  CANARY = 'canary',
  /** Gets a copy of live requests; its answers are stored, never returned. */
  SHADOW = 'shadow',
}

/** Options common to every candidate. */
export interface CandidateVariantOptions {
  /** The new model. */
  readonly model: IModel;
  /** @default - the production variant's instance type */
  readonly instanceType?: InstanceType;
  /** @default - the production variant's instance count */
  readonly instanceCount?: number;
  /** @default 'candidate' for a canary, 'shadow' for a shadow */
  readonly variantName?: string;
}

/** Options of `Candidate.canary`. */
export interface CanaryCandidateOptions extends CandidateVariantOptions {
  /** Share of live traffic the candidate serves at first, in percent (1-99). */
  readonly trafficPercent: number;
  /**
   * Moves the candidate's traffic up step by step while its alarms stay OK.
   * @default - the candidate stays at trafficPercent until you change it
   */
  readonly promotion?: CanaryPromotion;
  /**
   * Autoscaling of the candidate on its own share of traffic. A rollback narrows it to
   * `minInstanceCount`; `resume` gives its range and capacity back before traffic returns. Without
   * `targetInvocationsPerInstance`, it tracks production's target.
   * @default - the candidate keeps `instanceCount` instances
   */
  readonly autoScaling?: VariantAutoScalingOptions;
}

/** Options of `Candidate.shadow`. */
export interface ShadowCandidateOptions extends CandidateVariantOptions {
  /**
   * Share of live requests copied to the shadow, in percent (1-100). Rendered as the shadow
   * variant's weight (production 1.0, shadow samplingPercent / 100).
   * @default 100
   */
  readonly samplingPercent?: number;
  /**
   * Alarms on the shadow variant. They announce (SNS and the `Shadow Alarm` event) and never change
   * production traffic; they are not rollback alarms.
   * @default RollbackAlarms.recommended()
   */
  readonly alarms?: RollbackAlarms;
}

/**
 * A new model deployed beside production: a canary that serves a share of live traffic, or a shadow
 * that gets a copy of it. At most one per endpoint.
 *
 * Made only by `Candidate.canary` and `Candidate.shadow`; the class cannot be extended, in
 * TypeScript or any other language, because an endpoint renders exactly these two kinds.
 */
export class Candidate {
  /** A second production variant serving `trafficPercent` % of live traffic, rolled back by its alarms at any time. */
  public static canary(options: CanaryCandidateOptions): Candidate {
    validateWholeNumber('candidate.trafficPercent', options.trafficPercent, 1, 99);
    validateWholeNumber('candidate.instanceCount', options.instanceCount, 1);
    return new Candidate(CandidateKind.CANARY, options, options, undefined);
  }

  /** A shadow variant: production answers every request, the shadow's answers go to data capture. */
  public static shadow(options: ShadowCandidateOptions): Candidate {
    validateNumberInRange('candidate.samplingPercent', options.samplingPercent, 1, 100);
    validateWholeNumber('candidate.instanceCount', options.instanceCount, 1);
    return new Candidate(CandidateKind.SHADOW, options, undefined, options);
  }

  /** Canary or shadow. */
  public readonly kind: CandidateKind;
  /** The new model. */
  public readonly model: IModel;
  /**
   * The variant's options as given, typed as the fields every candidate has. For the canary's or
   * the shadow's own fields (in every language), read `canaryOptions` or `shadowOptions`.
   */
  public readonly options: CandidateVariantOptions;
  /** The options given to `Candidate.canary`; undefined for a shadow. */
  public readonly canaryOptions?: CanaryCandidateOptions;
  /** The options given to `Candidate.shadow`; undefined for a canary. */
  public readonly shadowOptions?: ShadowCandidateOptions;
  /** The variant's name. */
  public readonly variantName: string;

  private constructor(kind: CandidateKind, options: CandidateVariantOptions, canary: CanaryCandidateOptions | undefined, shadow: ShadowCandidateOptions | undefined) {
    this.kind = kind;
    this.model = options.model;
    this.options = options;
    this.canaryOptions = canary;
    this.shadowOptions = shadow;
    this.variantName = options.variantName ?? (kind === CandidateKind.CANARY ? 'candidate' : 'shadow');
  }
}

/** The canary's options, or undefined for a shadow. @internal */
export function canaryOptionsOf(candidate: Candidate): CanaryCandidateOptions | undefined {
  return candidate.canaryOptions;
}

/** The shadow's options, or undefined for a canary. @internal */
export function shadowOptionsOf(candidate: Candidate): ShadowCandidateOptions | undefined {
  return candidate.shadowOptions;
}
