/**
 * Helpers for tests of runtime code: real AWS SDK v3 clients pointed at the moto server that
 * global-setup.ts started (`AWS_ENDPOINT_URL`), and fixtures that create SageMaker and CloudWatch
 * resources in it.
 *
 * All test files share one moto server and run in parallel, so every test names its resources with
 * `uniqueName()` instead of resetting the emulator. See docs/TESTING.md for moto's quirks.
 */
import { randomBytes } from 'node:crypto';
import { ApplicationAutoScalingClient, ApplicationAutoScalingClientConfig } from '@aws-sdk/client-application-auto-scaling';
import {
  CloudWatchClient,
  CloudWatchClientConfig,
  ComparisonOperator,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
  StandardUnit,
  StateValue,
  Statistic,
} from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, EventBridgeClientConfig } from '@aws-sdk/client-eventbridge';
import { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  ProductionVariantInstanceType,
  SageMakerClient,
  SageMakerClientConfig,
} from '@aws-sdk/client-sagemaker';
import { SNSClient, SNSClientConfig } from '@aws-sdk/client-sns';
import { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';

/** The account moto puts in every ARN. */
export const EMULATOR_ACCOUNT_ID = '123456789012';

/** The moto server's URL, from `AWS_ENDPOINT_URL`; throws when the tests were not started through jest. */
export function emulatorEndpoint(): string {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (!endpoint) {
    throw new Error('AWS_ENDPOINT_URL is not set: run the tests with jest, whose globalSetup starts the moto server');
  }
  return endpoint;
}

// Each factory takes the client's own config, so that a test can point a client at a FaultProxy
// (`{ endpoint: proxy.url }`) or change its retries (`{ maxAttempts: 1 }`).

/** SageMaker client for the emulator. */
export function sagemakerClient(config: SageMakerClientConfig = {}): SageMakerClient {
  return new SageMakerClient({ endpoint: emulatorEndpoint(), ...config });
}

/** Application Auto Scaling client for the emulator. */
export function autoScalingClient(config: ApplicationAutoScalingClientConfig = {}): ApplicationAutoScalingClient {
  return new ApplicationAutoScalingClient({ endpoint: emulatorEndpoint(), ...config });
}

/** CloudWatch client for the emulator. */
export function cloudWatchClient(config: CloudWatchClientConfig = {}): CloudWatchClient {
  return new CloudWatchClient({ endpoint: emulatorEndpoint(), ...config });
}

/** DynamoDB client for the emulator. */
export function dynamoClient(config: DynamoDBClientConfig = {}): DynamoDBClient {
  return new DynamoDBClient({ endpoint: emulatorEndpoint(), ...config });
}

/** S3 client for the emulator, path-style (bucket names cannot be host names on 127.0.0.1). */
export function s3Client(config: S3ClientConfig = {}): S3Client {
  return new S3Client({ endpoint: emulatorEndpoint(), forcePathStyle: true, ...config });
}

/** SNS client for the emulator. */
export function snsClient(config: SNSClientConfig = {}): SNSClient {
  return new SNSClient({ endpoint: emulatorEndpoint(), ...config });
}

/** SQS client for the emulator. */
export function sqsClient(config: SQSClientConfig = {}): SQSClient {
  return new SQSClient({ endpoint: emulatorEndpoint(), ...config });
}

/** EventBridge client for the emulator. */
export function eventBridgeClient(config: EventBridgeClientConfig = {}): EventBridgeClient {
  return new EventBridgeClient({ endpoint: emulatorEndpoint(), ...config });
}

/**
 * A name no other test uses: `<prefix>-<8 random hex digits>`, lower case, at most 63 characters.
 * Valid as a SageMaker model, endpoint config and endpoint name, an alarm name, a table, queue,
 * topic and bucket name.
 */
export function uniqueName(prefix: string): string {
  const cleanPrefix = prefix.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (cleanPrefix === '') {
    throw new Error(`uniqueName needs a prefix with letters or digits, got '${prefix}'`);
  }
  const suffix = randomBytes(4).toString('hex');
  return `${cleanPrefix.slice(0, 63 - suffix.length - 1).replace(/-+$/, '')}-${suffix}`;
}

/**
 * Wipes ALL state in the emulator (POST /moto-api/reset). Test files run in parallel against one
 * moto server, so this also deletes what other tests are using: prefer `uniqueName()`, and reset
 * only a moto server of your own.
 */
export async function resetEmulator(endpoint: string = emulatorEndpoint()): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  await response.arrayBuffer();
  if (!response.ok) {
    throw new Error(`moto reset failed: HTTP ${response.status}`);
  }
}

// Fixtures talk to moto directly, never through a FaultProxy, so that setting up a test neither
// meets injected faults nor shows in a proxy's call log.
let fixtureClients: { sagemaker: SageMakerClient; cloudwatch: CloudWatchClient } | undefined;
function fixtures(): { sagemaker: SageMakerClient; cloudwatch: CloudWatchClient } {
  fixtureClients ??= { sagemaker: sagemakerClient(), cloudwatch: cloudWatchClient() };
  return fixtureClients;
}

/** Creates a SageMaker model with a placeholder image and role. Returns its ARN. */
export async function createModel(name: string): Promise<string> {
  const output = await fixtures().sagemaker.send(new CreateModelCommand({
    ModelName: name,
    ExecutionRoleArn: `arn:aws:iam::${EMULATOR_ACCOUNT_ID}:role/test-model-role`,
    PrimaryContainer: { Image: `${EMULATOR_ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/test-model:latest` },
  }));
  return required(output.ModelArn, 'CreateModel ModelArn');
}

/** One production variant of an endpoint config. */
export interface VariantSpec {
  readonly variantName: string;
  readonly modelName: string;
  /** Initial weight. With 0, moto's DescribeEndpoint shows no weight fields for the variant. */
  readonly weight: number;
  /** @default 1 */
  readonly instanceCount?: number;
  /** moto accepts only an old list of types (m4/m5/m5d/c4/c5/c5d/r5/r5d/p2/p3/g4dn/inf1/t2). @default ml.m5.large */
  readonly instanceType?: ProductionVariantInstanceType;
}

/** Creates an endpoint config with the given production variants. Returns its ARN. */
export async function createEndpointConfig(props: { readonly name: string; readonly variants: readonly VariantSpec[] }): Promise<string> {
  const output = await fixtures().sagemaker.send(new CreateEndpointConfigCommand({
    EndpointConfigName: props.name,
    ProductionVariants: props.variants.map((variant) => ({
      VariantName: variant.variantName,
      ModelName: variant.modelName,
      InitialVariantWeight: variant.weight,
      InitialInstanceCount: variant.instanceCount ?? 1,
      InstanceType: variant.instanceType ?? 'ml.m5.large',
    })),
  }));
  return required(output.EndpointConfigArn, 'CreateEndpointConfig EndpointConfigArn');
}

/** Creates an endpoint (InService at once in moto). Returns its ARN. */
export async function createEndpoint(props: { readonly name: string; readonly configName: string }): Promise<string> {
  const output = await fixtures().sagemaker.send(new CreateEndpointCommand({
    EndpointName: props.name,
    EndpointConfigName: props.configName,
  }));
  return required(output.EndpointArn, 'CreateEndpoint EndpointArn');
}

/** One side of a canary endpoint; the model is created for it. */
export interface CanaryVariantSpec {
  /** @default 'production' or 'candidate' */
  readonly variantName?: string;
  /** @default 0.9 for production, 0.1 for the candidate */
  readonly weight?: number;
  /** @default 1 */
  readonly instanceCount?: number;
  /** @default ml.m5.large */
  readonly instanceType?: ProductionVariantInstanceType;
}

/** Names of what {@link createCanaryEndpoint} created. */
export interface CanaryEndpoint {
  readonly endpointName: string;
  readonly endpointConfigName: string;
  readonly production: { readonly variantName: string; readonly modelName: string };
  readonly candidate: { readonly variantName: string; readonly modelName: string };
}

/**
 * Creates two models, an endpoint config with a production and a candidate variant, and an
 * endpoint on it, all with unique names.
 */
export async function createCanaryEndpoint(props: {
  readonly prefix?: string;
  readonly production?: CanaryVariantSpec;
  readonly candidate?: CanaryVariantSpec;
} = {}): Promise<CanaryEndpoint> {
  const prefix = props.prefix ?? 'canary';
  const production = { variantName: props.production?.variantName ?? 'production', modelName: uniqueName(`${prefix}-prod`) };
  const candidate = { variantName: props.candidate?.variantName ?? 'candidate', modelName: uniqueName(`${prefix}-cand`) };
  const endpointConfigName = uniqueName(`${prefix}-config`);
  const endpointName = uniqueName(prefix);

  await Promise.all([createModel(production.modelName), createModel(candidate.modelName)]);
  await createEndpointConfig({
    name: endpointConfigName,
    variants: [
      { ...production, weight: props.production?.weight ?? 0.9, instanceCount: props.production?.instanceCount, instanceType: props.production?.instanceType },
      { ...candidate, weight: props.candidate?.weight ?? 0.1, instanceCount: props.candidate?.instanceCount, instanceType: props.candidate?.instanceType },
    ],
  });
  await createEndpoint({ name: endpointName, configName: endpointConfigName });
  return { endpointName, endpointConfigName, production, candidate };
}

/** A metric alarm on one SageMaker endpoint (variant) metric in `AWS/SageMaker`. */
export interface AlarmSpec {
  readonly name: string;
  /** Adds the `EndpointName` dimension. @default - no dimension */
  readonly endpointName?: string;
  /** Adds the `VariantName` dimension. @default - no dimension */
  readonly variantName?: string;
  /** @default 'Invocation5XXErrors' */
  readonly metricName?: string;
  /** @default Sum */
  readonly statistic?: Statistic;
  /** @default 1 */
  readonly threshold?: number;
  /** @default GreaterThanOrEqualToThreshold */
  readonly comparisonOperator?: ComparisonOperator;
  /** @default 60 */
  readonly periodSeconds?: number;
  /** @default 1 */
  readonly evaluationPeriods?: number;
}

/**
 * Creates a metric alarm (PutMetricAlarm). moto never evaluates it: it starts in OK (real
 * CloudWatch: INSUFFICIENT_DATA) and changes only through {@link setAlarmState}.
 */
export async function createAlarm(spec: AlarmSpec): Promise<void> {
  await fixtures().cloudwatch.send(new PutMetricAlarmCommand({
    AlarmName: spec.name,
    Namespace: 'AWS/SageMaker',
    MetricName: spec.metricName ?? 'Invocation5XXErrors',
    Dimensions: variantDimensions(spec.endpointName, spec.variantName),
    Statistic: spec.statistic ?? 'Sum',
    Threshold: spec.threshold ?? 1,
    ComparisonOperator: spec.comparisonOperator ?? 'GreaterThanOrEqualToThreshold',
    Period: spec.periodSeconds ?? 60,
    EvaluationPeriods: spec.evaluationPeriods ?? 1,
    TreatMissingData: 'notBreaching',
  }));
}

/** Forces an alarm's state (SetAlarmState). moto keeps it until the next call; it emits no event. */
export async function setAlarmState(name: string, state: StateValue, reason = 'set by a test'): Promise<void> {
  await fixtures().cloudwatch.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: reason }));
}

/** One data point of a per-variant SageMaker metric. */
export interface VariantMetricPoint {
  readonly endpointName: string;
  readonly variantName: string;
  readonly metricName: string;
  readonly value: number;
  /** @default now */
  readonly timestamp?: Date;
  /** @default Count */
  readonly unit?: StandardUnit;
}

/**
 * Puts one data point in `AWS/SageMaker` with dimensions EndpointName, VariantName, in that order:
 * moto matches dimensions of GetMetricData queries in order (real CloudWatch does not care).
 */
export async function putVariantMetric(point: VariantMetricPoint): Promise<void> {
  await fixtures().cloudwatch.send(new PutMetricDataCommand({
    Namespace: 'AWS/SageMaker',
    MetricData: [{
      MetricName: point.metricName,
      Dimensions: variantDimensions(point.endpointName, point.variantName),
      Timestamp: point.timestamp ?? new Date(),
      Value: point.value,
      Unit: point.unit ?? 'Count',
    }],
  }));
}

/** Records `count` invocations of a variant, the way SageMaker publishes `Invocations`. */
export async function putInvocations(props: {
  readonly endpointName: string;
  readonly variantName: string;
  readonly count: number;
  /** @default now */
  readonly timestamp?: Date;
}): Promise<void> {
  await putVariantMetric({ ...props, metricName: 'Invocations', value: props.count });
}

function variantDimensions(endpointName?: string, variantName?: string): { Name: string; Value: string }[] {
  return [
    ...(endpointName !== undefined ? [{ Name: 'EndpointName', Value: endpointName }] : []),
    ...(variantName !== undefined ? [{ Name: 'VariantName', Value: variantName }] : []),
  ];
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) {
    throw new Error(`the emulator's answer has no ${what}`);
  }
  return value;
}
