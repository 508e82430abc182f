import { createHash } from 'crypto';
import { Annotations, CfnDeletionPolicy, Duration, IResource, Lazy, Resource, Size, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CfnEndpoint, CfnEndpointConfig, CfnModel } from 'aws-cdk-lib/aws-sagemaker';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { RollbackAlarmSet } from './alarms/alarm-set';
import { checkAlarmCount, RollbackAlarms } from './alarms/rollback-alarms';
import { Candidate, canaryOptionsOf, shadowOptionsOf } from './candidate';
import { PromotionSchedule } from './canary-promotion';
import { isOwnAlarmName, ownAlarmsArn, RolloutController } from './controller/rollout-controller';
import { bindDataCapture, DataCaptureOptions } from './data-capture';
import { EndpointDashboard } from './endpoint-dashboard';
import { InstanceType } from './instance-type';
import * as metrics from './metrics';
import { IModel } from './model';
import { acknowledgeFindings, acknowledgeWildcards } from './private/acknowledge';
import { grantKeyUse, LibraryGrants } from './private/grants';
import { arnName, arnSubTemplate, compactArn, generatedEndpointName, MANAGED_BY_TAG } from './private/naming';
import { constructError, durationInSeconds, validateSageMakerName, validateWholeNumber, withConstructPath } from './private/validation';
import {
  ProvisionedConcurrencyScalingOptions, validateInstanceScaling, validateProvisionedConcurrencyScaling, VariantAutoScalingOptions,
} from './scaling/auto-scaling-options';
import { ScalableInstanceCount } from './scaling/scalable-instance-count';
import { bindScaling, EndpointScaling } from './scaling/variant-scaling';
import { MANAGED_BY_TAG_KEY, REVERT_ID_PATTERN, STATE_TABLE_TAG } from './runtime/spec';
import { defaultTrafficShift, TrafficShift } from './traffic-shift';

/** Serverless capacity of a variant, instead of instances. */
export interface ServerlessOptions {
  /** Memory per concurrent request: 1024, 2048, 3072, 4096, 5120 or 6144 MB. */
  readonly memorySizeInMB: number;
  /** Most concurrent requests (1-200). */
  readonly maxConcurrency: number;
  /**
   * Concurrency kept warm (1-200, at most maxConcurrency).
   * @default - none: every cold start pays the start-up time
   */
  readonly provisionedConcurrency?: number;
  /**
   * Autoscaling of the provisioned concurrency (needs `provisionedConcurrency`).
   * @default - the provisioned concurrency stays as given
   */
  readonly autoScaling?: ProvisionedConcurrencyScalingOptions;
}

/** The production variant: the model that serves users today. */
export interface ProductionVariantOptions {
  /** The model. Change it to deploy a new model blue/green, as `trafficShift` says. */
  readonly model: IModel;
  /**
   * The variant's name. Keep it stable: SageMaker's blue/green and rolling updates need the same
   * variant names across updates.
   * @default 'production'
   */
  readonly variantName?: string;
  /**
   * The instance type (not with `serverless`).
   * @default InstanceType.ML_M5_LARGE
   */
  readonly instanceType?: InstanceType;
  /**
   * Number of instances (not with `serverless`). Two or more keep the endpoint up through an
   * instance failure, and give canary and linear shifts something to split. With `autoScaling`,
   * the count the endpoint is created with: later deployments keep the scaled count.
   * @default 1, or `autoScaling.minInstanceCount` with autoScaling
   */
  readonly instanceCount?: number;
  /**
   * Autoscaling through Application Auto Scaling (not with `serverless`: use
   * `serverless.autoScaling`). Deployments keep the scaled instance count, and an instance-type
   * change takes scaling off and puts it back around SageMaker's update (README, "Autoscaling").
   * @default - a fixed instanceCount
   */
  readonly autoScaling?: VariantAutoScalingOptions;
  /**
   * Serverless capacity instead of instances. Serverless variants cannot have a candidate, data
   * capture, or rolling updates.
   * @default - instances
   */
  readonly serverless?: ServerlessOptions;
  /**
   * Size of the ML storage volume of each instance (1-512 GiB).
   * @default - SageMaker's default for the instance type
   */
  readonly volumeSize?: Size;
  /**
   * Time allowed to download the model artifact (60-3600 s).
   * @default - SageMaker's default
   */
  readonly modelDataDownloadTimeout?: Duration;
  /**
   * Time allowed for the container to pass its health check (60-3600 s).
   * @default - SageMaker's default
   */
  readonly containerStartupHealthCheckTimeout?: Duration;
}

/** Properties of a `ModelEndpoint`. */
export interface ModelEndpointProps {
  /**
   * The endpoint's name. It never changes when models, candidates or the traffic shift change.
   * @default - a stable lower-case name generated from the construct path
   */
  readonly endpointName?: string;
  /** The production variant. */
  readonly production: ProductionVariantOptions;
  /**
   * A new model beside production: `Candidate.canary(...)` or `Candidate.shadow(...)`.
   * @default - none
   */
  readonly candidate?: Candidate;
  /**
   * How SageMaker applies a change of the endpoint configuration.
   * @default - all traffic at once, then a bake of 10 minutes or the slowest rollback alarm's time
   * to detect, whichever is longer (at most 3600 seconds)
   */
  readonly trafficShift?: TrafficShift;
  /**
   * Alarms that roll a deployment back: a canary's alarms watch the candidate (at any time, through
   * the stack's controller); otherwise they watch the new production fleet while SageMaker bakes it.
   * @default RollbackAlarms.recommended()
   */
  readonly rollbackAlarms?: RollbackAlarms;
  /**
   * Capture requests and answers to S3.
   * @default - on for a shadow candidate (100 % sampling, a bucket created for it), off otherwise
   */
  readonly dataCapture?: DataCaptureOptions;
  /**
   * Where rollbacks, promotions, shadow alarms and failed deployments are announced (besides the
   * EventBridge events the library always puts).
   * @default - EventBridge only
   */
  readonly notificationTopic?: sns.ITopic;
  /**
   * KMS key that encrypts the ML storage volumes of the endpoint's instances.
   * @default - SageMaker's default encryption
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * A CloudWatch dashboard with production beside the candidate.
   * @default true
   */
  readonly dashboard?: boolean;
  /**
   * Check after each deployment that the endpoint runs the configuration just deployed, and fail
   * the deployment when SageMaker rolled it back on its own. Turning it off lets CloudFormation
   * report success for a rolled-back deployment.
   * @default true
   */
  readonly verifyDeployment?: boolean;
  /**
   * Keep endpoint configs that a deployment replaces. They cost nothing, and an endpoint that
   * SageMaker rolled back on its own still runs on the previous one: deleting it breaks scaling and
   * patching of that fleet. `npx cdk-sagemaker-rollout cleanup` lists kept configs nothing uses.
   * @default true
   */
  readonly retainReplacedConfigs?: boolean;
  /**
   * Acknowledges a revert made with `npx cdk-sagemaker-rollout revert`, by its id
   * (`revert-20261130T041233Z`, as `status` and the refused deployment show it), so that this
   * deployment may put the reverted model back on the endpoint. Without it, a deployment that
   * would bring the reverted model back (for an unrelated change) is refused before the endpoint
   * is touched; a deployment of another model needs no acknowledgement and ends the revert. An id
   * names one revert only, so leaving it in the code never acknowledges a later one.
   * @default - no revert is acknowledged: a reverted model stays off the endpoint until the code changes the model
   */
  readonly acknowledgeRevert?: string;
}

/** A SageMaker real-time endpoint, created here or imported. */
export interface IModelEndpoint extends IResource {
  /** The endpoint's name. @attribute */
  readonly endpointName: string;
  /** The endpoint's ARN. @attribute */
  readonly endpointArn: string;
  /** A metric of this endpoint's variant, `AWS/SageMaker` namespace. */
  metric(metricName: string, variantName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Requests served by a variant (Sum per minute). */
  metricInvocations(variantName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Requests of a variant answered with a 5xx (`Invocation5XXErrors`, Sum). Reads well in every
   * language (Python: `metric_invocation5xx_errors`).
   */
  metricInvocation5xxErrors(variantName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Requests of a variant answered with a 4xx (`Invocation4XXErrors`, Sum). */
  metricInvocation4xxErrors(variantName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Requests of a variant answered with a 5xx (Sum).
   * @deprecated use `metricInvocation5xxErrors`: this name splits badly in other languages
   *   (Python: `metric_invocation5_xx_errors`)
   */
  metricInvocation5XXErrors(variantName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Requests of a variant answered with a 4xx (Sum).
   * @deprecated use `metricInvocation4xxErrors`: this name splits badly in other languages
   *   (Python: `metric_invocation4_xx_errors`)
   */
  metricInvocation4XXErrors(variantName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Requests of a variant the model failed (Sum). */
  metricModelErrors(variantName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Model latency of a variant, in microseconds (p99 unless told otherwise). */
  metricModelLatency(variantName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** SageMaker's overhead latency of a variant, in microseconds (p99 unless told otherwise). */
  metricOverheadLatency(variantName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Share of a variant's requests that failed, in percent. */
  metricErrorRate(variantName: string, options?: metrics.ErrorRateOptions): cloudwatch.MathExpression;
  /** Lets the grantee invoke this endpoint (`sagemaker:InvokeEndpoint` on this endpoint only). */
  grantInvoke(grantee: iam.IGrantable): iam.Grant;
}

abstract class EndpointBase extends Resource implements IModelEndpoint {
  public abstract readonly endpointName: string;
  public abstract readonly endpointArn: string;
  /** The variants metric helpers accept; undefined: any (an endpoint imported by name alone). */
  protected abstract readonly variantNames?: string[];

  public metric(metricName: string, variantName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return metrics.variantMetric(this.target('metric', variantName), metricName, props);
  }
  public metricInvocations(variantName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return metrics.invocations(this.target('metricInvocations', variantName), props);
  }
  public metricInvocation5xxErrors(variantName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return metrics.invocation5xxErrors(this.target('metricInvocation5xxErrors', variantName), props);
  }
  public metricInvocation4xxErrors(variantName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return metrics.invocation4xxErrors(this.target('metricInvocation4xxErrors', variantName), props);
  }
  /** @deprecated use `metricInvocation5xxErrors` */
  public metricInvocation5XXErrors(variantName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricInvocation5xxErrors(variantName, props);
  }
  /** @deprecated use `metricInvocation4xxErrors` */
  public metricInvocation4XXErrors(variantName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricInvocation4xxErrors(variantName, props);
  }
  public metricModelErrors(variantName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return metrics.modelErrors(this.target('metricModelErrors', variantName), props);
  }
  public metricModelLatency(variantName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return metrics.modelLatency(this.target('metricModelLatency', variantName), props);
  }
  public metricOverheadLatency(variantName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return metrics.overheadLatency(this.target('metricOverheadLatency', variantName), props);
  }
  public metricErrorRate(variantName: string, options?: metrics.ErrorRateOptions): cloudwatch.MathExpression {
    return metrics.errorRatePercent(this.target('metricErrorRate', variantName), options);
  }

  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    // The lower-case ARN: SageMaker writes endpoint names in lower case inside ARNs, and IAM compares them as written.
    return iam.Grant.addToPrincipal({ grantee, actions: ['sagemaker:InvokeEndpoint'], resourceArns: [this.endpointArn] });
  }

  /** A metric of a variant this endpoint has: a name it does not have makes a metric that never gets data. */
  private target(method: string, variantName: string): metrics.VariantMetricTarget {
    const known = this.variantNames;
    if (known && !Token.isUnresolved(variantName) && !known.some((v) => Token.isUnresolved(v) || v === variantName)) {
      throw constructError(this, `${method}: variantName must be one of ${known.map((v) => `"${v}"`).join(', ')} (the variants of endpoint ${this.endpointName}), got "${variantName}"`);
    }
    return { endpointName: this.endpointName, variantName };
  }
}

/** What `ModelEndpoint.fromEndpointAttributes` needs to know of an existing endpoint. */
export interface ModelEndpointAttributes {
  /** The endpoint's name, in the case it was created with (metric dimensions keep it). */
  readonly endpointName: string;
  /**
   * The endpoint's ARN.
   * @default - formed from the name, in lower case (as SageMaker writes it), in the stack's partition, region and account
   */
  readonly endpointArn?: string;
  /**
   * The endpoint's variant names: the metric helpers accept these only.
   * @default - the metric helpers accept any variant name
   */
  readonly variantNames?: string[];
}

/** An endpoint made elsewhere. */
class ImportedEndpoint extends EndpointBase {
  public readonly endpointName: string;
  public readonly endpointArn: string;
  protected readonly variantNames?: string[];

  constructor(scope: Construct, id: string, attrs: ModelEndpointAttributes) {
    super(scope, id);
    try {
      validateSageMakerName('endpointName', attrs.endpointName);
      for (const v of attrs.variantNames ?? []) validateSageMakerName('variantNames', v);
      this.endpointName = attrs.endpointName;
      // SageMaker writes names in lower case inside ARNs.
      this.endpointArn = attrs.endpointArn ?? compactArn('sagemaker', `endpoint/${arnName(attrs.endpointName)}`);
      this.variantNames = attrs.variantNames && attrs.variantNames.length > 0 ? [...attrs.variantNames] : undefined;
    } catch (error) {
      throw withConstructPath(this, error);
    }
  }
}

/** A variant after defaults, ready to render. */
interface ResolvedVariant {
  readonly role: 'production' | 'candidate' | 'shadow';
  readonly variantName: string;
  readonly model: IModel;
  readonly instanceType?: InstanceType;
  readonly instanceCount?: number;
  readonly serverless?: ServerlessOptions;
  readonly autoScaling?: VariantAutoScalingOptions;
  readonly weight: number;
  readonly volumeSizeInGb?: number;
  readonly modelDataDownloadTimeoutInSeconds?: number;
  readonly containerStartupHealthCheckTimeoutInSeconds?: number;
}

/**
 * A SageMaker real-time endpoint with a production model and, optionally, a candidate (canary or
 * shadow), updated in place through SageMaker's deployment guardrails and guarded by rollback alarms.
 *
 * The endpoint keeps its name and logical ID whatever changes; its endpoint config and models are
 * replaced (and kept) on every change.
 */
export class ModelEndpoint extends EndpointBase {
  /** Tag on every model, endpoint config and endpoint this library creates (the CLI's cleanup looks for it). */
  public static readonly MANAGED_BY_TAG_KEY = MANAGED_BY_TAG_KEY;
  /** Tag on an endpoint with a canary or shadow: the name of the stack's state table (the CLI finds the rollout through it). */
  public static readonly STATE_TABLE_TAG_KEY = STATE_TABLE_TAG;

  /** Imports an existing endpoint by name, for its metrics, grants and ARN. */
  public static fromEndpointName(scope: Construct, id: string, endpointName: string): IModelEndpoint {
    return ModelEndpoint.fromEndpointAttributes(scope, id, { endpointName });
  }

  /** Imports an existing endpoint by its attributes; given its variant names, the metric helpers accept those only. */
  public static fromEndpointAttributes(scope: Construct, id: string, attrs: ModelEndpointAttributes): IModelEndpoint {
    return new ImportedEndpoint(scope, id, attrs);
  }

  public readonly endpointName: string;
  public readonly endpointArn: string;
  protected readonly variantNames: string[];
  /** The production variant's name. */
  public readonly productionVariantName: string;
  /** The candidate's variant name, when there is a candidate. */
  public readonly candidateVariantName?: string;
  /** Every alarm that can trigger a rollback (listed in `AutoRollbackConfiguration`). */
  public readonly rollbackAlarms: cloudwatch.IAlarm[];
  /** The names of `rollbackAlarms`, as strings known at synthesis for the alarms this library creates. */
  public readonly rollbackAlarmNames: string[];
  /**
   * Worst case for a fully broken new model to trip a rollback alarm: the slowest alarm's
   * `period x (datapointsToAlarm + 1)` plus CloudWatch's evaluation interval (README, "How fast a
   * bad model is caught"). Zero when no alarm's configuration is known here.
   */
  public readonly timeToDetect: Duration;
  /** A shadow candidate's alarms: they notify and never change traffic. Empty without a shadow. */
  public readonly shadowAlarms: cloudwatch.IAlarm[];
  /** The capture bucket, when data capture is on. */
  public readonly dataCaptureBucket?: s3.IBucket;
  /** The dashboard, unless turned off. */
  public readonly dashboard?: cloudwatch.CfnDashboard;
  /** The endpoint config CloudFormation replaces on every change. */
  public readonly endpointConfig: CfnEndpointConfig;
  /**
   * The stack's rollout controller (one function for every endpoint of the stack): watch its
   * errors, or read its logs, to see what it decided.
   */
  public readonly controllerFunction: lambda.IFunction;
  /** The endpoint's CloudFormation resource. */
  public readonly resource: CfnEndpoint;
  private readonly scaling?: EndpointScaling;

  constructor(scope: Construct, id: string, props: ModelEndpointProps) {
    super(scope, id);
    try {
      validateSageMakerName('endpointName', props.endpointName);
      this.endpointName = props.endpointName ?? generatedEndpointName(this);
      this.endpointArn = compactArn('sagemaker', `endpoint/${arnName(this.endpointName)}`);

      const [production, candidate] = resolveVariants(props);
      const variants = candidate ? [production, candidate] : [production];
      validateVariants(variants);
      if (candidate) validateCandidateDiffers(production.model, candidate.model);
      if (candidate?.role === 'shadow' && props.dataCapture?.samplingPercent === 0) {
        throw new Error('dataCapture.samplingPercent must be between 1 and 100 with a shadow candidate (its answers are only seen in the captures), got 0');
      }
      this.productionVariantName = production.variantName;
      this.candidateVariantName = candidate?.variantName;
      this.variantNames = variants.map((v) => v.variantName);

      const controller = RolloutController.of(this);
      this.controllerFunction = controller.function;
      const config = this.createEndpointConfig(props, variants);
      this.endpointConfig = config;

      // Which alarms roll back, and which fleet they watch (README, "Rollback alarms").
      const rollbackTarget = candidate?.role === 'candidate'
        ? { variantName: candidate.variantName, productionVariantName: production.variantName, description: `the canary (variant ${candidate.variantName}) of endpoint ${this.endpointName}` }
        // Blue/green: the new fleet only (EndpointConfigName dimension), so errors of the old fleet
        // cannot abort a good deployment.
        : { variantName: production.variantName, endpointConfigName: config.attrEndpointConfigName, description: `the new production fleet of endpoint ${this.endpointName}` };
      const rollbackScope = new Construct(this, 'RollbackAlarms');
      acknowledgeFindings(rollbackScope, { nag: ALARM_ACTION_IDS }, 'These alarms act through SageMaker, which reads them during every deployment '
        + '(AutoRollbackConfiguration) and rolls back, and, for a canary, through the stack\'s rollout controller, which gets every state change from '
        + 'EventBridge, rolls back and announces it on the notification topic. For blue/green, the alarms also notify the topic when one is given.');
      const rollback = (props.rollbackAlarms ?? RollbackAlarms.recommended())._bind(rollbackScope, {
        endpointName: this.endpointName,
        alarmNamePrefix: controller.alarmNamePrefix,
        serverless: variants.some((v) => v.serverless),
        shadow: false,
        ...rollbackTarget,
      });
      this.rollbackAlarms = rollback.alarms;
      this.rollbackAlarmNames = rollback.names;
      checkAlarmCount(rollback);
      this.timeToDetect = Duration.seconds(rollback.timeToDetectSeconds);
      const shadow = candidate?.role === 'shadow' ? this.bindShadowAlarms(props.candidate!, candidate, controller.alarmNamePrefix) : undefined;
      this.shadowAlarms = shadow?.alarms ?? [];
      // Fast detection needs SageMaker's enhanced metrics, published every 10 seconds.
      const frequencies = [rollback, shadow].map((set) => set?.metricPublishFrequencySeconds).filter((f): f is number => f !== undefined);
      if (frequencies.length > 0) {
        config.metricsConfig = { enableEnhancedMetrics: true, metricPublishFrequencyInSeconds: Math.min(...frequencies) };
      }

      const deploymentConfig = this.renderDeploymentConfig(props, variants, rollback);
      this.resource = new CfnEndpoint(this, 'Resource', {
        endpointName: this.endpointName,
        endpointConfigName: config.attrEndpointConfigName,
        deploymentConfig,
        tags: [MANAGED_BY_TAG],
      });
      // AutoRollbackConfiguration names the alarms, so they must exist (and be updated) first.
      for (const alarm of this.rollbackAlarms) this.resource.node.addDependency(alarm);

      // Autoscaling (lib/scaling/): scalable targets, default policies, the instance-type-change guard.
      this.scaling = bindScaling(this, {
        endpointName: this.endpointName,
        endpointArn: this.endpointArn,
        endpoint: this.resource,
        controller,
        variants: variants.map((v) => ({
          role: v.role, variantName: v.variantName, instanceType: v.instanceType?.toString(),
          autoScaling: v.autoScaling, provisionedConcurrencyScaling: v.serverless?.autoScaling,
        })),
      });

      this.grantAlarmReads(variants.map((v) => v.model), controller.alarmNamePrefix);
      this.grantContainerLogs(variants.map((v) => v.model));
      this.warnAboutGuardrails(props, variants);

      if (!candidate && props.notificationTopic) {
        // Blue/green has no controller watching the alarms: they tell the topic themselves.
        for (const alarm of this.rollbackAlarms) {
          if (alarm instanceof cloudwatch.Alarm) alarm.addAlarmAction(new cw_actions.SnsAction(props.notificationTopic));
        }
      }

      const capture = props.dataCapture ?? (candidate?.role === 'shadow' ? {} : undefined);
      if (capture) {
        if (variants.some((v) => v.serverless)) {
          throw new Error('dataCapture is not available for serverless variants: remove dataCapture or use instances');
        }
        const writers = [...new Set(variants.map((v) => v.model.role).filter((r): r is iam.IRole => r !== undefined))];
        const bound = bindDataCapture(this, capture, writers, variants.every((v) => v.model.role !== undefined));
        config.dataCaptureConfig = bound.config;
        this.dataCaptureBucket = bound.bucket;
      }

      this.registerWithController(props, controller, config, candidate, rollback, shadow, production);

      if (props.dashboard ?? true) {
        const alarms = [...this.rollbackAlarms, ...this.shadowAlarms];
        const names = [...rollback.names, ...(shadow?.names ?? [])];
        this.dashboard = new EndpointDashboard(this, 'Dashboard', {
          endpointName: this.endpointName,
          productionVariantName: production.variantName,
          candidateVariantName: candidate?.variantName,
          candidateKind: candidate?.role,
          // The library's alarms by their known names (no reference to resolve); others by ARN.
          alarmArns: alarms.map((alarm, i) => (isOwnAlarmName(names[i], controller.alarmNamePrefix) && !Token.isUnresolved(names[i])
            ? arnSubTemplate('cloudwatch', `alarm:${names[i]}`) : alarm.alarmArn)),
        }).dashboard;
      }
    } catch (error) {
      throw withConstructPath(this, error);
    }
  }

  /**
   * The scalable instance count of a variant with `autoScaling`, to add policies and schedules of
   * your own (`scaleOnMetric`, `scaleOnSchedule`, `scaleOnUtilization`, `scaleOnInvocations`).
   */
  public scalableInstanceCount(variantName: string): ScalableInstanceCount {
    return this.scalableAttribute('scalableInstanceCount', variantName, 'sagemaker:variant:DesiredInstanceCount');
  }

  /** The scalable provisioned concurrency of a serverless variant with `serverless.autoScaling`. */
  public scalableProvisionedConcurrency(variantName: string): ScalableInstanceCount {
    return this.scalableAttribute('scalableProvisionedConcurrency', variantName, 'sagemaker:variant:DesiredProvisionedConcurrency');
  }

  private scalableAttribute(method: string, variantName: string, dimension: string): ScalableInstanceCount {
    const attribute = this.scaling?.attributes[variantName];
    if (attribute && attribute.dimension === dimension) return attribute;
    const scaled = Object.keys(this.scaling?.attributes ?? {});
    const why = attribute
      ? (dimension === 'sagemaker:variant:DesiredInstanceCount' ? 'it is serverless: use scalableProvisionedConcurrency' : 'it runs on instances: use scalableInstanceCount')
      : `it has no autoScaling (variants with autoScaling: ${scaled.length > 0 ? scaled.map((v) => `"${v}"`).join(', ') : 'none'})`;
    throw constructError(this, `${method}("${variantName}"): ${why}`);
  }

  private createEndpointConfig(props: ModelEndpointProps, variants: ResolvedVariant[]): CfnEndpointConfig {
    const render = (v: ResolvedVariant): CfnEndpointConfig.ProductionVariantProperty => ({
      variantName: v.variantName,
      modelName: v.model.modelName,
      initialVariantWeight: v.weight,
      instanceType: v.serverless ? undefined : v.instanceType?.toString(),
      initialInstanceCount: v.serverless ? undefined : v.instanceCount,
      serverlessConfig: v.serverless ? {
        memorySizeInMb: v.serverless.memorySizeInMB,
        maxConcurrency: v.serverless.maxConcurrency,
        provisionedConcurrency: v.serverless.provisionedConcurrency,
      } : undefined,
      volumeSizeInGb: v.volumeSizeInGb,
      modelDataDownloadTimeoutInSeconds: v.modelDataDownloadTimeoutInSeconds,
      containerStartupHealthCheckTimeoutInSeconds: v.containerStartupHealthCheckTimeoutInSeconds,
    });
    const config = new CfnEndpointConfig(this, 'Config', {
      // No name: every change replaces the config, and CloudFormation cannot replace a named resource.
      productionVariants: variants.filter((v) => v.role !== 'shadow').map(render),
      shadowProductionVariants: variants.some((v) => v.role === 'shadow') ? variants.filter((v) => v.role === 'shadow').map(render) : undefined,
      kmsKeyId: props.encryptionKey?.keyArn,
      tags: [MANAGED_BY_TAG],
    });
    if (props.retainReplacedConfigs ?? true) {
      // A replaced config may still be what the endpoint runs (SageMaker rolled back on its own):
      // keep it. The config of a deleted endpoint goes with it.
      config.cfnOptions.updateReplacePolicy = CfnDeletionPolicy.RETAIN;
      config.cfnOptions.deletionPolicy = CfnDeletionPolicy.DELETE;
    }
    // Instances read the model, and SageMaker needs the key, before the config can serve.
    for (const v of variants) config.node.addDependency(v.model);
    if (props.encryptionKey) {
      for (const v of variants) {
        if (!v.model.role) continue;
        // What encrypting an instance's storage volume takes (EBS encryption, "Permissions for IAM
        // users": https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption-requirements.html),
        // without kms:Encrypt or kms:ReEncrypt*, and only through SageMaker or EC2 (kms:ViaService).
        grantKeyUse(LibraryGrants.of(v.model.role), props.encryptionKey, VOLUME_KEY_ACTIONS, ['sagemaker', 'ec2']);
      }
    }
    return config;
  }

  private bindShadowAlarms(candidate: Candidate, shadow: ResolvedVariant, alarmNamePrefix: string): RollbackAlarmSet {
    const alarms = shadowOptionsOf(candidate)!.alarms ?? RollbackAlarms.recommended();
    const scope = new Construct(this, 'ShadowAlarms');
    acknowledgeFindings(scope, { nag: ALARM_ACTION_IDS }, 'Shadow alarms notify, through the stack\'s rollout controller: it gets every state change '
      + 'from EventBridge and announces it on the notification topic and as an EventBridge event; an alarm action would send a second, raw notification.');
    return alarms._bind(scope, {
      endpointName: this.endpointName,
      variantName: shadow.variantName,
      alarmNamePrefix,
      shadow: true,
      description: `the shadow (variant ${shadow.variantName}) of endpoint ${this.endpointName}; shadow alarms only notify`,
    });
  }

  private renderDeploymentConfig(props: ModelEndpointProps, variants: ResolvedVariant[], rollback: RollbackAlarmSet): CfnEndpoint.DeploymentConfigProperty {
    // Defaults follow the alarms: the default bake lasts at least as long as the slowest alarm needs.
    const shift = props.trafficShift ?? defaultTrafficShift(rollback.timeToDetectSeconds, rollback.slowestAlarmName);
    const instanceCounts: Record<string, number> = {};
    for (const v of variants) {
      if (!v.serverless && v.instanceCount !== undefined && !Token.isUnresolved(v.instanceCount)) instanceCounts[v.variantName] = v.instanceCount;
    }
    const rendered = shift._render({
      instanceCounts,
      productionVariantCount: variants.filter((v) => v.role !== 'shadow').length,
      serverless: variants.some((v) => v.serverless),
      alarmDetectionSeconds: rollback.timeToDetectSeconds,
    });
    for (const warning of rendered.warnings) {
      Annotations.of(this).addWarningV2('cdk-sagemaker-rollout:trafficShiftIgnored', warning);
    }
    return {
      blueGreenUpdatePolicy: rendered.blueGreenUpdatePolicy,
      rollingUpdatePolicy: rendered.rollingUpdatePolicy,
      autoRollbackConfiguration: rollback.alarms.length > 0
        ? { alarms: rollback.names.map((alarmName) => ({ alarmName })) }
        : undefined,
    };
  }

  /**
   * SageMaker reads the rollback alarms while it bakes. The docs name the model execution role as
   * the principal that needs `cloudwatch:DescribeAlarms`
   * (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html; UNCONFIRMED for
   * CloudFormation-driven updates): every model role of the endpoint gets it.
   *
   * The library's alarms are granted by their name prefix, not by ARN: an alarm's ARN would make the
   * role's policy wait for the alarm, the alarm waits for the endpoint config (it watches the new
   * fleet), and the config for the model and its role: a cycle.
   */
  private grantAlarmReads(models: IModel[], alarmNamePrefix: string): void {
    if (this.rollbackAlarms.length === 0) return;
    const arns = new Set<string>();
    this.rollbackAlarms.forEach((alarm, i) => {
      arns.add(isOwnAlarmName(this.rollbackAlarmNames[i], alarmNamePrefix) ? ownAlarmsArn(alarmNamePrefix) : alarm.alarmArn);
    });
    const roles = [...new Set(models.map((m) => m.role).filter((r): r is iam.IRole => r !== undefined))];
    for (const role of roles.map((r) => LibraryGrants.of(r))) {
      iam.Grant.addToPrincipal({ grantee: role, actions: ['cloudwatch:DescribeAlarms'], resourceArns: [...arns] });
      acknowledgeWildcards(role, { resources: [...arns] }, 'Read-only cloudwatch:DescribeAlarms on the alarms this library creates in the stack, '
        + 'which all start with the stack\'s alarm name prefix: naming each alarm\'s ARN would make this policy wait for the alarms, the alarms for the '
        + 'endpoint config (they watch the new fleet) and the config for this role, a dependency cycle.');
    }
    if (models.some((m) => m.role === undefined)) {
      Annotations.of(this).addWarningV2('cdk-sagemaker-rollout:importedModelRole',
        'An imported model has no role here: give its execution role cloudwatch:DescribeAlarms on the rollback alarms, or SageMaker may not be able to watch them.');
    }
  }

  /**
   * SageMaker writes each endpoint's container logs to the log group `/aws/sagemaker/Endpoints/<endpoint name>`:
   * every model role of the endpoint may write there, and nowhere else. IAM takes the log group's
   * ARN with a trailing `:*` for every action but tagging
   * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html).
   */
  private grantContainerLogs(models: IModel[]): void {
    const logGroup = compactArn('logs', `log-group:/aws/sagemaker/Endpoints/${this.endpointName}:*`);
    const roles = [...new Set(models.map((m) => m.role).filter((r): r is iam.IRole => r !== undefined))];
    for (const grantee of roles.map((r) => LibraryGrants.of(r))) {
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resourceArns: [logGroup],
      });
      acknowledgeWildcards(grantee, { resources: [logGroup] }, 'SageMaker writes container logs to the log group /aws/sagemaker/Endpoints/<endpoint name>, '
        + 'one stream per variant and instance, with names it chooses: the role may write to the log groups of the endpoints that use it, and their streams, only.');
    }
  }

  /** Warnings where SageMaker accepts a setting but handles it badly (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html). */
  private warnAboutGuardrails(props: ModelEndpointProps, variants: ResolvedVariant[]): void {
    const inf1 = variants.filter((v) => v.instanceType?.isInferentia1);
    if (inf1.length > 0) {
      Annotations.of(this).addWarningV2('cdk-sagemaker-rollout:guardrailsUnsupported',
        `Variant(s) ${inf1.map((v) => v.variantName).join(', ')} run on Inf1 instances, which deployment guardrails do not support: SageMaker silently updates all at once, without a bake, so the rollback alarms are never watched during updates.`);
    }
    if (variants.some((v) => v.model.awsMarketplace)) {
      Annotations.of(this).addWarningV2('cdk-sagemaker-rollout:guardrailsUnsupported',
        'A model uses an AWS Marketplace container, which deployment guardrails do not support: SageMaker silently updates all at once, without a bake.');
    }
    const custom = [
      props.production.variantName !== undefined ? `production.variantName "${props.production.variantName}"` : undefined,
      props.candidate?.options.variantName !== undefined ? `candidate.variantName "${props.candidate.options.variantName}"` : undefined,
    ].filter((x): x is string => x !== undefined);
    if (custom.length > 0) {
      Annotations.of(this).addWarningV2('cdk-sagemaker-rollout:variantNames',
        `Keep ${custom.join(' and ')} the same from one deployment to the next: blue/green and rolling updates need the same variant names on both sides, and renaming a variant defeats the guardrails.`);
    }
  }

  private registerWithController(props: ModelEndpointProps, controller: RolloutController, config: CfnEndpointConfig,
    candidate: ResolvedVariant | undefined, rollback: RollbackAlarmSet, shadow: RollbackAlarmSet | undefined, production: ResolvedVariant): void {
    const verify = props.verifyDeployment ?? true;
    if (!verify && props.acknowledgeRevert !== undefined) {
      throw new Error(`${this.node.path}: acknowledgeRevert needs verifyDeployment (deployments and reverts are recorded by the post-deploy check), got verifyDeployment: false`);
    }
    if (!verify && !candidate && !this.scaling) return;

    let rollout;
    if (candidate) {
      const canary = canaryOptionsOf(props.candidate!);
      const promotion: PromotionSchedule | undefined = canary?.promotion?._schedule(canary.trafficPercent, rollback.timeToDetectSeconds);
      const alarms = candidate.role === 'candidate' ? rollback : shadow!;
      controller.guardRollout({
        endpointName: this.endpointName, endpointArn: this.endpointArn, alarms: alarms.alarms, alarmNames: alarms.names,
        topic: props.notificationTopic, promotion: promotion !== undefined, canary: candidate.role === 'candidate',
      });
      rollout = {
        kind: candidate.role === 'candidate' ? 'canary' as const : 'shadow' as const,
        productionVariant: this.productionVariantName,
        candidateVariant: candidate.variantName,
        candidateModelName: candidate.model.modelName,
        candidateModelPath: candidate.model.node.path,
        initialPercent: canary ? canary.trafficPercent : (shadowOptionsOf(props.candidate!)!.samplingPercent ?? 100),
        promotion,
        alarmNames: alarms.names,
        topicArn: props.notificationTopic?.topicArn,
        candidateScaling: candidate.role === 'candidate' ? this.scaling?.candidate : undefined,
      };
    }
    if (verify) controller.verifyEndpoint({ endpointArn: this.endpointArn, alarms: rollback.alarms, alarmNames: rollback.names, topic: props.notificationTopic });
    // Set on the resource's own tag manager: Tags.of() would add an aspect that every synthesis walks.
    this.resource.tags.setTag(STATE_TABLE_TAG, controller.table!.tableName);

    // === Reverts (issue 16): the guard that keeps a reverted model off the endpoint until the
    // code changes; it also stores the models each deployment is recorded with.
    const models = (candidate ? [production, candidate] : [production]).map((v) => ({ variant: v.variantName, model: v.model.modelName }));
    if (verify) {
      if (props.acknowledgeRevert !== undefined && !Token.isUnresolved(props.acknowledgeRevert) && !REVERT_ID_PATTERN.test(props.acknowledgeRevert)) {
        throw new Error(`${this.node.path}: acknowledgeRevert must be a revert id such as revert-20261130T041233Z (as "status" shows it), got "${props.acknowledgeRevert}"`);
      }
      const guard = controller.guardReverts({
        endpointName: this.endpointName,
        endpointConfigName: config.attrEndpointConfigName,
        models,
        // A fingerprint, not the settings themselves: 60 endpoints' settings would push the template past 1 MB.
        deployment: Lazy.string({ produce: () => fingerprint(Stack.of(this).resolve(this.resource.deploymentConfig)) }),
        acknowledgeRevert: props.acknowledgeRevert,
      });
      this.resource.node.addDependency(guard);
    }

    const deployment = controller.deploymentResource(this, 'Deployment', {
      endpointName: this.endpointName,
      endpointConfigName: config.attrEndpointConfigName,
      variantNames: [this.productionVariantName, ...(candidate?.role === 'candidate' ? [candidate.variantName] : [])],
      verify,
      rollbackAlarmNames: rollback.names,
      rollout,
      topicArn: props.notificationTopic?.topicArn,
      scaling: this.scaling?.spec,
    });
    // Runs once CloudFormation has finished updating the endpoint, before the cleanup phase deletes anything.
    deployment.node.addDependency(this.resource);
    // ... and its scaling: it registers again what an instance-type change took off, after CloudFormation's own updates.
    for (const attribute of Object.values(this.scaling?.attributes ?? {})) deployment.node.addDependency(attribute);
  }
}

/** A short hash of a resolved template fragment: changes whenever the fragment does. */
function fingerprint(resolved: unknown): string {
  return createHash('sha256').update(JSON.stringify(resolved ?? null)).digest('hex').slice(0, 16);
}

/** What encrypting an instance's storage volume with the endpoint's key takes; no kms:Encrypt or kms:ReEncrypt*. */
const VOLUME_KEY_ACTIONS = ['kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext'];

/**
 * A candidate that is the production model (the same construct, or the same image, model data and
 * environment) compares a model with itself: a mistake, refused.
 */
function validateCandidateDiffers(production: IModel, candidate: IModel): void {
  if (candidate === production) {
    throw new Error(`candidate.model must be a new model, got the production model (${production.node.path})`);
  }
  const a = containerOf(production);
  const b = containerOf(candidate);
  if (a !== undefined && a === b) {
    throw new Error(`candidate.model must differ from production.model, got ${candidate.node.path} with the same image, model data and environment as ${production.node.path}`);
  }
}

/** The container a model runs (image, model data, environment), resolved, when the model is made here. */
function containerOf(model: IModel): string | undefined {
  const resource = (model as { resource?: unknown }).resource;
  if (!(resource instanceof CfnModel)) return undefined;
  return JSON.stringify(Stack.of(model).resolve(resource.primaryContainer));
}

/** HIPAA and NIST: "the alarm has no action". */
const ALARM_ACTION_IDS = ['HIPAA.Security-CloudWatchAlarmAction', 'NIST.800.53.R5-CloudWatchAlarmAction'];

/**
 * The variants with their defaults, checks and weights. Canary weights are percentages, so the
 * candidate's share of the total is exactly trafficPercent; a shadow setup has production at 1.0
 * and the shadow at samplingPercent / 100: the shadow's weight sets the copied share, as in AWS's
 * shadow-variant sample (aws/amazon-sagemaker-examples, sagemaker-shadow-variant); how exactly is
 * undocumented (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html, ShadowProductionVariants).
 */
function resolveVariants(props: ModelEndpointProps): [ResolvedVariant, ResolvedVariant | undefined] {
  const p = props.production;
  const variantName = p.variantName ?? 'production';
  validateSageMakerName('production.variantName', variantName);
  if (p.serverless && (p.instanceType || p.instanceCount !== undefined)) {
    throw new Error('production takes either serverless or instanceType/instanceCount, got both');
  }
  if (p.serverless) validateServerless('production.serverless', p.serverless);
  validateWholeNumber('production.instanceCount', p.instanceCount, 1);
  if (p.serverless && p.autoScaling) {
    throw new Error('production.autoScaling scales instances, and production is serverless: scale its provisioned concurrency with production.serverless.autoScaling');
  }
  const instanceType = p.serverless ? undefined : (p.instanceType ?? InstanceType.ML_M5_LARGE);
  const instanceCount = p.serverless ? undefined : (p.instanceCount ?? p.autoScaling?.minInstanceCount ?? 1);
  if (p.autoScaling) validateInstanceScaling('production', p.autoScaling, instanceType, instanceCount);
  if (p.serverless?.autoScaling) {
    validateProvisionedConcurrencyScaling('production.serverless', p.serverless.autoScaling, p.serverless.provisionedConcurrency, p.serverless.maxConcurrency);
  }
  const production = {
    variantName,
    model: p.model,
    instanceType,
    instanceCount,
    serverless: p.serverless,
    autoScaling: p.autoScaling,
    ...volumeAndTimeouts('production', p),
  };
  const candidate = props.candidate;
  if (!candidate) return [{ ...production, role: 'production', weight: 1 }, undefined];

  validateSageMakerName('candidate.variantName', candidate.variantName);
  if (p.serverless) {
    throw new Error(`a ${candidate.kind} candidate needs an instance-based production variant: serverless endpoints support neither multiple production variants nor shadow variants`);
  }
  const o = candidate.options;
  const canary = canaryOptionsOf(candidate);
  const candidateScaling = canary?.autoScaling;
  // Defaults from production: a candidate promoted to 100 % carries all of production's traffic.
  // A scaled candidate starts at its minimum and grows with its share.
  const base = {
    variantName: candidate.variantName,
    model: candidate.model,
    instanceType: o.instanceType ?? production.instanceType,
    instanceCount: o.instanceCount ?? candidateScaling?.minInstanceCount ?? production.instanceCount,
    autoScaling: candidateScaling,
  };
  if (candidateScaling) validateInstanceScaling('candidate', candidateScaling, base.instanceType, base.instanceCount);
  if (canary) {
    return [
      { ...production, role: 'production', weight: 100 - canary.trafficPercent },
      { ...base, role: 'candidate', weight: canary.trafficPercent },
    ];
  }
  return [
    { ...production, role: 'production', weight: 1 },
    { ...base, role: 'shadow', weight: (shadowOptionsOf(candidate)!.samplingPercent ?? 100) / 100 },
  ];
}

function volumeAndTimeouts(prefix: string, p: ProductionVariantOptions) {
  let volumeSizeInGb: number | undefined;
  if (p.volumeSize !== undefined) {
    volumeSizeInGb = p.volumeSize.toGibibytes();
    validateWholeNumber(`${prefix}.volumeSize (GiB)`, volumeSizeInGb, 1, 512);
    if (p.serverless) throw new Error(`${prefix}.volumeSize is not available for serverless variants`);
  }
  return {
    volumeSizeInGb,
    modelDataDownloadTimeoutInSeconds: durationInSeconds(`${prefix}.modelDataDownloadTimeout`, p.modelDataDownloadTimeout, 60, 3600),
    containerStartupHealthCheckTimeoutInSeconds: durationInSeconds(`${prefix}.containerStartupHealthCheckTimeout`, p.containerStartupHealthCheckTimeout, 60, 3600),
  };
}

function validateServerless(prop: string, s: ServerlessOptions): void {
  if (!Token.isUnresolved(s.memorySizeInMB) && ![1024, 2048, 3072, 4096, 5120, 6144].includes(s.memorySizeInMB)) {
    throw new Error(`${prop}.memorySizeInMB must be one of 1024, 2048, 3072, 4096, 5120 or 6144, got ${s.memorySizeInMB}`);
  }
  validateWholeNumber(`${prop}.maxConcurrency`, s.maxConcurrency, 1, 200);
  validateWholeNumber(`${prop}.provisionedConcurrency`, s.provisionedConcurrency, 1, 200);
  if (s.provisionedConcurrency !== undefined && !Token.isUnresolved(s.provisionedConcurrency) && !Token.isUnresolved(s.maxConcurrency)
    && s.provisionedConcurrency > s.maxConcurrency) {
    throw new Error(`${prop}.provisionedConcurrency must be at most maxConcurrency (${s.maxConcurrency}), got ${s.provisionedConcurrency}`);
  }
}

/** At most 10 variants, and no two with the same name (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html). */
function validateVariants(variants: ResolvedVariant[]): void {
  if (variants.length > 10) {
    throw new Error(`an endpoint config takes at most 10 variants, got ${variants.length}`);
  }
  const seen = new Set<string>();
  for (const v of variants) {
    if (Token.isUnresolved(v.variantName)) continue;
    // SageMaker compares variant names case-insensitively in ARNs; treat "Production" and "production" as the same.
    const key = v.variantName.toLowerCase();
    if (seen.has(key)) {
      throw new Error(`variant names must differ, got "${v.variantName}" twice: give the candidate another variantName`);
    }
    seen.add(key);
  }
}
