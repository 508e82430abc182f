import { App, Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  CanaryPromotion, Candidate, ContainerImage, InstanceType, Model, ModelData, ModelEndpoint, RollbackAlarms, TrafficShift,
} from '../lib';

/**
 * The example app: one stack per strategy. Image and model data come from CDK context, with
 * placeholders that synthesize offline:
 *   npx cdk synth
 *   npx cdk deploy CanaryStack -c image=<ecr uri> -c modelData=s3://... -c candidateImage=... -c candidateModelData=...
 */
export interface ExampleInputs {
  readonly image: string;
  readonly modelData: string;
  readonly candidateImage: string;
  readonly candidateModelData: string;
}

export const PLACEHOLDER_INPUTS: ExampleInputs = {
  image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/recommender:1.0',
  modelData: 's3://my-model-artifacts/recommender/1.0/model.tar.gz',
  candidateImage: '123456789012.dkr.ecr.us-east-1.amazonaws.com/recommender:2.0',
  candidateModelData: 's3://my-model-artifacts/recommender/2.0/model.tar.gz',
};

export function inputsFromContext(app: App): ExampleInputs {
  const get = (key: keyof ExampleInputs) => (app.node.tryGetContext(key) as string | undefined) ?? PLACEHOLDER_INPUTS[key];
  return { image: get('image'), modelData: get('modelData'), candidateImage: get('candidateImage'), candidateModelData: get('candidateModelData') };
}

interface ExampleStackProps extends StackProps {
  readonly inputs: ExampleInputs;
}

/** What every example stack shares: the model versions, an encryption key and an announcement topic. */
abstract class ExampleStack extends Stack {
  protected readonly key: kms.Key;
  protected readonly topic: sns.Topic;
  private readonly inputs: ExampleInputs;

  constructor(scope: Construct, id: string, props: ExampleStackProps) {
    super(scope, id, props);
    this.inputs = props.inputs;
    // One customer-managed key for the endpoint volumes, the captures and the topic. CloudWatch
    // alarms can only publish to an encrypted topic when its key lets CloudWatch use it.
    this.key = new kms.Key(this, 'Key', { enableKeyRotation: true, description: `${id}: SageMaker volumes and rollout announcements` });
    // Only on behalf of this account's alarms (aws:SourceAccount), as the Amazon SNS guide's key policy
    // for AWS services shows: https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsOfThisAccountPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
    }));
    this.topic = new sns.Topic(this, 'Announcements', { masterKey: this.key, enforceSSL: true });
  }

  /** Version 1 (in production today) or 2 (the new model) of the recommender. */
  protected recommender(version: 1 | 2): Model {
    return new Model(this, `RecommenderV${version}`, {
      image: ContainerImage.fromImageUri(version === 1 ? this.inputs.image : this.inputs.candidateImage),
      modelData: ModelData.fromS3Url(version === 1 ? this.inputs.modelData : this.inputs.candidateModelData),
      networkIsolation: true,
    });
  }
}

/** The simplest endpoint: one model, the defaults (all-at-once with a 10-minute bake, recommended alarms). */
export class SingleModelStack extends ExampleStack {
  public readonly endpoint: ModelEndpoint;

  constructor(scope: Construct, id: string, props: ExampleStackProps) {
    super(scope, id, props);
    this.endpoint = new ModelEndpoint(this, 'Recommender', {
      production: { model: this.recommender(1), instanceType: InstanceType.ML_M5_XLARGE, instanceCount: 2 },
      encryptionKey: this.key,
      notificationTopic: this.topic,
    });
  }
}

/** Blue/green: production moves to v2 in 20 % steps every 5 minutes, watched by 5xx, model-error and latency alarms; the fleet autoscales. */
export class BlueGreenStack extends ExampleStack {
  public readonly endpoint: ModelEndpoint;

  constructor(scope: Construct, id: string, props: ExampleStackProps) {
    super(scope, id, props);
    this.endpoint = new ModelEndpoint(this, 'Recommender', {
      // Scales between 5 and 20 instances at 1000 requests per instance per minute; a new model
      // keeps the scaled size (the green fleet starts as large as the blue one is now).
      production: {
        model: this.recommender(2), instanceType: InstanceType.ML_M5_XLARGE, instanceCount: 5,
        autoScaling: { minInstanceCount: 5, maxInstanceCount: 20, targetInvocationsPerInstance: 1000, scaleInCooldown: Duration.minutes(10), scaleOutCooldown: Duration.minutes(2) },
      },
      trafficShift: TrafficShift.LINEAR_20PERCENT_EVERY_5MINUTES,
      rollbackAlarms: RollbackAlarms.recommended({ maxErrorRatePercent: 1, maxLatency: Duration.millis(250) }),
      encryptionKey: this.key,
      notificationTopic: this.topic,
    });
  }
}

/** Canary: v2 serves 10 % of traffic, promoted 10 -> 25 -> 50 -> 100 % every 30 minutes, rolled back by its alarms at any time; both variants autoscale. */
export class CanaryStack extends ExampleStack {
  public readonly endpoint: ModelEndpoint;

  constructor(scope: Construct, id: string, props: ExampleStackProps) {
    super(scope, id, props);
    this.endpoint = new ModelEndpoint(this, 'Recommender', {
      production: {
        model: this.recommender(1), instanceType: InstanceType.ML_M5_XLARGE, instanceCount: 2,
        autoScaling: { minInstanceCount: 2, maxInstanceCount: 10, targetInvocationsPerInstance: 1000 },
      },
      candidate: Candidate.canary({
        model: this.recommender(2),
        trafficPercent: 10,
        // Scales on its own share at production's target; a rollback narrows it to one instance.
        autoScaling: { minInstanceCount: 1, maxInstanceCount: 10 },
        promotion: CanaryPromotion.steps([10, 25, 50, 100], { interval: Duration.minutes(30), minInvocations: 500, approvalAt: 50 }),
      }),
      rollbackAlarms: RollbackAlarms.recommended({ maxErrorRatePercent: 1, maxLatency: Duration.millis(250) }),
      encryptionKey: this.key,
      notificationTopic: this.topic,
    });
  }
}

/** Shadow: v2 gets a copy of every request; both models' requests and answers are captured to S3. */
export class ShadowStack extends ExampleStack {
  public readonly endpoint: ModelEndpoint;

  constructor(scope: Construct, id: string, props: ExampleStackProps) {
    super(scope, id, props);
    this.endpoint = new ModelEndpoint(this, 'Recommender', {
      production: { model: this.recommender(1), instanceType: InstanceType.ML_M5_XLARGE, instanceCount: 2 },
      candidate: Candidate.shadow({ model: this.recommender(2), samplingPercent: 100 }),
      dataCapture: { samplingPercent: 100, encryptionKey: this.key },
      encryptionKey: this.key,
      notificationTopic: this.topic,
    });
  }
}

/** Every example stack, environment-agnostic so that `cdk synth` needs no AWS account. */
export function buildExampleApp(app: App, inputs: ExampleInputs = inputsFromContext(app)): Stack[] {
  return [
    new SingleModelStack(app, 'SingleModelStack', { inputs }),
    new BlueGreenStack(app, 'BlueGreenStack', { inputs }),
    new CanaryStack(app, 'CanaryStack', { inputs }),
    new ShadowStack(app, 'ShadowStack', { inputs }),
  ];
}
