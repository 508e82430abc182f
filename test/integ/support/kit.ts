/**
 * Building blocks of the integration cases in test/integ/: the failing model on AWS's
 * scikit-learn container, a steady traffic source, and the probe that observes what AWS did and
 * reports which of the documented outcomes happened. Test-only code: none of it ships.
 */
import * as path from 'node:path';
import { IApiCall, IDeployAssert, ExpectedResult, Match } from '@aws-cdk/integ-tests-alpha';
import { CfnMapping, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { CfnEndpointConfig } from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { ContainerImage, Model, ModelData } from '../../../lib';
import { writeFailingModelArchive } from './model-archive';

/**
 * AWS's scikit-learn inference image (`sagemaker-scikit-learn:1.2-1-cpu-py3`), by region. The
 * registry accounts are AWS's published list: "Docker Registry Paths and Example Code",
 * https://docs.aws.amazon.com/sagemaker/latest/dg-ecr-paths/sagemaker-algo-docker-registry-paths.html
 * (for example https://docs.aws.amazon.com/sagemaker/latest/dg-ecr-paths/ecr-us-east-1.html#sklearn-us-east-1),
 * the same accounts as the SageMaker Python SDK's src/sagemaker/image_uri_config/sklearn.json.
 * SageMaker pulls its own prebuilt images with service credentials, so the model role needs no
 * ECR grant for them.
 */
export const SKLEARN_REGISTRY_ACCOUNTS: Readonly<Record<string, string>> = {
  'us-east-1': '683313688378',
  'us-east-2': '257758044811',
  'us-west-2': '246618743249',
  'eu-west-1': '141502667606',
  'eu-west-2': '764974769150',
  'eu-central-1': '492215442770',
  'ap-northeast-1': '354813040037',
  'ap-southeast-2': '783357654285',
};

/** The image tag: scikit-learn 1.2-1, CPU, Python 3. */
export const SKLEARN_IMAGE_TAG = '1.2-1-cpu-py3';

/** The scikit-learn image of the stack's region, resolved at deploy time from a mapping. */
export function sklearnImage(scope: Construct): ContainerImage {
  const stack = Stack.of(scope);
  const id = 'SklearnRegistryAccounts';
  const mapping = (stack.node.tryFindChild(id) as CfnMapping | undefined) ?? new CfnMapping(stack, id, {
    mapping: Object.fromEntries(Object.entries(SKLEARN_REGISTRY_ACCOUNTS).map(([region, account]) => [region, { account }])),
  });
  const account = mapping.findInMap(stack.region, 'account');
  return ContainerImage.fromImageUri(Fn.join('', [account, '.dkr.ecr.', stack.region, '.', stack.urlSuffix, `/sagemaker-scikit-learn:${SKLEARN_IMAGE_TAG}`]));
}

/** Props of `failingModel`. */
export interface FailingModelProps {
  /** Reported in every answer ("v1", "v2"), so a case can tell which fleet served a request. */
  readonly version: string;
  /** When true, every request fails. @default false */
  readonly broken?: boolean;
  /** @default - the library's shared model role */
  readonly role?: iam.IRole;
}

/** A model that answers normally, fails when a request says `"fail": true`, or always when broken. */
export function failingModel(scope: Construct, id: string, props: FailingModelProps): Model {
  const archive = writeFailingModelArchive({ version: props.version, broken: props.broken ?? false });
  return new Model(scope, id, {
    image: sklearnImage(scope),
    modelData: ModelData.fromAsset(archive),
    role: props.role,
    // What the SageMaker Python SDK sets for a framework model whose code is packed in the archive.
    environment: {
      SAGEMAKER_PROGRAM: 'inference.py',
      SAGEMAKER_SUBMIT_DIRECTORY: '/opt/ml/model/code',
      SAGEMAKER_CONTAINER_LOG_LEVEL: '20',
      SAGEMAKER_REGION: Stack.of(scope).region,
    },
  });
}

const RUNTIME = lambda.Runtime.NODEJS_22_X;

/** Props of `SteadyTraffic`. */
export interface SteadyTrafficProps {
  readonly endpointName: string;
  /** Requests per second. */
  readonly ratePerSecond: number;
  /** Sends every request to this variant (InvokeEndpoint's TargetVariant). @default - weights decide */
  readonly targetVariant?: string;
  /** Asks the model to fail on every request. @default false */
  readonly failRequests?: boolean;
  /** Gives every request an InferenceId with this prefix (data capture records it). @default - none */
  readonly inferenceIdPrefix?: string;
}

/**
 * A function that invokes the endpoint at a steady rate for a bounded time (55 s per run), run
 * every minute by a schedule for as long as the stack lives, so the alarms always have data.
 */
export class SteadyTraffic extends Construct {
  /** The traffic function. */
  public readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: SteadyTrafficProps) {
    super(scope, id);
    this.function = new lambda.Function(this, 'Function', {
      runtime: RUNTIME,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(__dirname, 'traffic-function')),
      timeout: Duration.seconds(70),
      memorySize: 256,
      logGroup: new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_DAY, removalPolicy: RemovalPolicy.DESTROY }),
    });
    this.function.addToRolePolicy(new iam.PolicyStatement({
      actions: ['sagemaker:InvokeEndpoint'],
      resources: [Stack.of(this).formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: props.endpointName.toLowerCase() })],
    }));
    new events.Rule(this, 'EveryMinute', {
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.function, {
        event: events.RuleTargetInput.fromObject({
          endpointName: props.endpointName,
          ratePerSecond: props.ratePerSecond,
          durationSeconds: 55,
          targetVariant: props.targetVariant,
          failRequests: props.failRequests ?? false,
          inferenceIdPrefix: props.inferenceIdPrefix,
        }),
        retryAttempts: 0,
      })],
    });
  }
}

/**
 * The probe: a function that answers one question about what AWS did (see probe-function/index.js)
 * with `{"verdict": "settled" | "waiting" | "unexpected", "answer": ...}`, and logs each settled
 * answer as one `SETTLED {...}` line in its log group, named `/aws/lambda/<functionName>`.
 */
export class Probe extends Construct {
  /** The probe function. */
  public readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: { readonly functionName: string }) {
    super(scope, id);
    this.function = new lambda.Function(this, 'Function', {
      functionName: props.functionName,
      runtime: RUNTIME,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(__dirname, 'probe-function')),
      timeout: Duration.minutes(2),
      memorySize: 512,
    });
    // Read-only look-ups across the services a case observes; the calls that change something
    // (UpdateEndpoint, AddTags, DescribeAlarms) are granted per case.
    this.function.addToRolePolicy(new iam.PolicyStatement({
      actions: [
        'sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig', 'sagemaker:ListTags',
        'cloudwatch:DescribeAlarmHistory', 'cloudwatch:GetMetricData',
        'cloudformation:DescribeStackEvents', 'cloudformation:DescribeStacks',
        'logs:FilterLogEvents', 's3:ListBucket', 's3:GetObject',
      ],
      resources: ['*'],
    }));
  }

  /** Lets the probe call these actions on these resources. */
  public grant(actions: string[], resources: string[]): void {
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
  }

  /** Lets the probe invoke and update the endpoint (the guarded-update cases drive SageMaker directly). */
  public grantEndpoint(endpointName: string): void {
    const stack = Stack.of(this);
    this.grant(['sagemaker:InvokeEndpoint', 'sagemaker:UpdateEndpoint', 'sagemaker:AddTags'], [
      stack.formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: endpointName.toLowerCase() }),
      stack.formatArn({ service: 'sagemaker', resource: 'endpoint-config', resourceName: '*' }),
    ]);
  }
}

/**
 * Asks the probe a question until it is settled (or the timeout passes): the assertion passes
 * when the probe settles on one of the question's documented outcomes, and fails when it
 * observes neither or runs out of time.
 */
export function settle(assertions: IDeployAssert, probe: Probe, question: Record<string, unknown>, timeout: Duration): IApiCall {
  return assertions.invokeFunction({
    functionName: probe.function.functionName,
    payload: JSON.stringify(question),
  }).expect(ExpectedResult.objectLike({
    Payload: Match.stringLikeRegexp('"verdict":"settled"'),
  })).waitForAssertions({ totalTimeout: timeout, interval: Duration.minutes(1), backoffRate: 1 });
}

/** Records the endpoint's `SageMaker Endpoint State Change` events in a log group the probe reads. */
export function recordEndpointStateChanges(scope: Construct, endpointName: string): logs.LogGroup {
  const group = new logs.LogGroup(scope, 'EndpointStateChanges', { retention: logs.RetentionDays.ONE_DAY, removalPolicy: RemovalPolicy.DESTROY });
  new events.Rule(scope, 'EndpointStateChangeRule', {
    eventPattern: { source: ['aws.sagemaker'], detailType: ['SageMaker Endpoint State Change'], detail: { EndpointName: [endpointName] } },
    targets: [new targets.CloudWatchLogGroup(group)],
  });
  return group;
}

/** One variant of a `targetConfig`. */
export interface TargetVariant {
  readonly variantName: string;
  readonly model: Model;
  /** @default 1 */
  readonly weight?: number;
}

/**
 * A second endpoint config for the cases that drive an update through the SageMaker API (the
 * probe calls UpdateEndpoint with it), so that each outcome can be observed without a failed
 * CloudFormation deployment in the way.
 */
export function targetConfig(scope: Construct, id: string, props: { readonly variants: TargetVariant[]; readonly shadowVariants?: TargetVariant[] }): CfnEndpointConfig {
  const render = (v: TargetVariant): CfnEndpointConfig.ProductionVariantProperty => ({
    variantName: v.variantName, modelName: v.model.modelName, initialVariantWeight: v.weight ?? 1,
    instanceType: 'ml.m5.large', initialInstanceCount: 1,
  });
  return new CfnEndpointConfig(scope, id, {
    productionVariants: props.variants.map(render),
    shadowProductionVariants: props.shadowVariants?.map(render),
  });
}

/** An alarm on a variant's model errors (at least 5 in a minute): the rollback alarm of the API-driven updates. */
export function variantErrorAlarm(scope: Construct, id: string, endpointName: string, variantName: string): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    metric: new cloudwatch.Metric({
      namespace: 'AWS/SageMaker', metricName: 'InvocationModelErrors', statistic: 'Sum', period: Duration.minutes(1),
      dimensionsMap: { EndpointName: endpointName, VariantName: variantName },
    }),
    threshold: 5,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}
