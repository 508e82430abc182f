import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import { describeEndpoint, EndpointView, endpointTags } from '../runtime/endpoint-ops';
import { RolloutDeps } from '../runtime/rollout';
import { MANAGED_BY_TAG_KEY, ROLLOUT_EVENT_SOURCE, STATE_TABLE_TAG } from '../runtime/spec';
import { StateStore } from '../runtime/state-store';

/**
 * What the CLI talks to. Clients use the standard AWS credential chain and honour
 * `AWS_ENDPOINT_URL`; `--region` overrides the region.
 */
export interface CliClients {
  readonly sagemaker: SageMakerClient;
  readonly cloudwatch: CloudWatchClient;
  readonly dynamo: DynamoDBClient;
  readonly sns: SNSClient;
  readonly events: EventBridgeClient;
  readonly s3: S3Client;
  /** Who acts: every write records the caller's identity. */
  readonly sts: STSClient;
  readonly autoscaling: ApplicationAutoScalingClient;
}

export function createClients(region: string | undefined): CliClients {
  const config = region ? { region } : {};
  return {
    sagemaker: new SageMakerClient(config),
    cloudwatch: new CloudWatchClient(config),
    dynamo: new DynamoDBClient(config),
    sns: new SNSClient(config),
    events: new EventBridgeClient(config),
    autoscaling: new ApplicationAutoScalingClient(config),
    // Path-style keeps bucket names with dots working, and works with local emulators.
    s3: new S3Client({ ...config, forcePathStyle: process.env.AWS_ENDPOINT_URL !== undefined }),
    sts: new STSClient(config),
  };
}

/** The exit codes scripts can rely on. */
export enum ExitCode {
  OK = 0,
  /** Something unexpected failed (network, permissions, a bug). */
  FAILED = 1,
  /** Bad arguments. */
  USAGE = 2,
  /** The endpoint does not exist. */
  NOT_FOUND = 3,
  /** The endpoint exists but this library does not manage it (or manages no canary on it). */
  NOT_MANAGED = 4,
  /** The endpoint is updating, or another change is in flight: try again later. */
  BUSY = 5,
  /** Refused: an alarm is in ALARM, or the rollout's state does not allow the action. */
  REFUSED = 6,
  /** --wait gave up before the endpoint settled. */
  WAIT_TIMED_OUT = 7,
}

/** An error the CLI reports with a given exit code and no stack trace. */
export class CliError extends Error {
  constructor(message: string, public readonly exitCode: ExitCode) {
    super(message);
    this.name = 'CliError';
  }
}

/** An endpoint as the CLI sees it: live state, tags, and the rollout's table if it has one. */
export interface ManagedEndpoint {
  readonly endpoint: EndpointView;
  readonly managed: boolean;
  readonly store?: StateStore;
  readonly tableName?: string;
}

export async function openEndpoint(clients: CliClients, endpointName: string): Promise<ManagedEndpoint> {
  const endpoint = await describeEndpoint(clients.sagemaker, endpointName);
  const tags = await endpointTags(clients.sagemaker, endpoint.arn);
  const tableName = tags[STATE_TABLE_TAG];
  return {
    endpoint,
    managed: tags[MANAGED_BY_TAG_KEY] !== undefined,
    tableName,
    store: tableName ? new StateStore(clients.dynamo, tableName) : undefined,
  };
}

/** The rollout's dependencies for an operator action, or a clear refusal when there is no rollout to act on. */
export function rolloutDeps(clients: CliClients, target: ManagedEndpoint, io: { now: () => Date; sleep: (ms: number) => Promise<void> }): RolloutDeps {
  const name = target.endpoint.name;
  if (!target.managed) {
    throw new CliError(`endpoint "${name}" is not managed by cdk-sagemaker-rollout (it has no ${MANAGED_BY_TAG_KEY} tag): nothing was changed`, ExitCode.NOT_MANAGED);
  }
  if (!target.store) {
    throw new CliError(`endpoint "${name}" has no canary or shadow candidate managed by cdk-sagemaker-rollout: nothing was changed`, ExitCode.NOT_MANAGED);
  }
  return {
    sagemaker: clients.sagemaker,
    cloudwatch: clients.cloudwatch,
    sns: clients.sns,
    events: clients.events,
    autoscaling: clients.autoscaling,
    store: target.store,
    eventSource: ROLLOUT_EVENT_SOURCE,
    now: io.now,
    sleep: io.sleep,
    log: () => undefined,
  };
}
