import { ApplicationAutoScalingClient, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DeploymentLog } from '../../lib/runtime/deployment-log';
import { HandlerDeps } from '../../lib/runtime/handler';
import { register, RolloutDeps } from '../../lib/runtime/rollout';
import { PromotionSpec, ROLLOUT_EVENT_SOURCE, RolloutSpec } from '../../lib/runtime/spec';
import { StateStore } from '../../lib/runtime/state-store';
import {
  autoScalingClient, cloudWatchClient, createAlarm, createCanaryEndpoint, dynamoClient, eventBridgeClient, sagemakerClient, snsClient, sqsClient, uniqueName,
} from '../support/emulator';

/** A clock that only moves when told to; `sleep` moves it instead of waiting. */
export class FakeClock {
  private time: number;
  public readonly sleeps: number[] = [];

  constructor(start: Date = new Date()) {
    this.time = start.getTime();
  }

  public now = (): Date => new Date(this.time);

  public sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.time += ms;
  };

  public advance(ms: number): void {
    this.time += ms;
  }
}

/** A DynamoDB table shaped like the controller's (pk/sk strings), with a unique name. */
export async function createStateTable(): Promise<string> {
  const name = uniqueName('rollout-state');
  await dynamoClient().send(new CreateTableCommand({
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
  }));
  return name;
}

/**
 * Where announcements land: an SNS topic with an SQS subscription, and an EventBridge rule on the
 * default bus for this endpoint's events with an SQS target. Both delivered by the emulator.
 */
export class AnnouncementInbox {
  public static async create(endpointName: string): Promise<AnnouncementInbox> {
    const sqs = sqsClient();
    const topic = await snsClient().send(new CreateTopicCommand({ Name: uniqueName('announcements') }));
    const snsQueue = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('sns-inbox') }));
    const eventQueue = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('event-inbox') }));
    const arnOf = async (url: string) => (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    await snsClient().send(new SubscribeCommand({
      TopicArn: topic.TopicArn!, Protocol: 'sqs', Endpoint: await arnOf(snsQueue.QueueUrl!), Attributes: { RawMessageDelivery: 'false' },
    }));
    const rule = uniqueName('inbox-rule');
    await eventBridgeClient().send(new PutRuleCommand({
      Name: rule,
      EventPattern: JSON.stringify({ source: [ROLLOUT_EVENT_SOURCE], detail: { endpointName: [endpointName] } }),
    }));
    await eventBridgeClient().send(new PutTargetsCommand({ Rule: rule, Targets: [{ Id: 'inbox', Arn: await arnOf(eventQueue.QueueUrl!) }] }));
    return new AnnouncementInbox(topic.TopicArn!, snsQueue.QueueUrl!, eventQueue.QueueUrl!);
  }

  private constructor(public readonly topicArn: string, private readonly snsQueue: string, private readonly eventQueue: string) {}

  /** EventBridge events received so far (and removed from the queue). */
  public async events(): Promise<{ 'detail-type': string; source: string; detail: any }[]> {
    return (await this.drain(this.eventQueue)).map((body) => JSON.parse(body));
  }

  /** SNS notifications received so far: { Subject, Message }. */
  public async notifications(): Promise<{ Subject: string; Message: string }[]> {
    return (await this.drain(this.snsQueue)).map((body) => JSON.parse(body));
  }

  private async drain(queueUrl: string): Promise<string[]> {
    const sqs = sqsClient();
    const bodies: string[] = [];
    for (;;) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      const messages = out.Messages ?? [];
      if (messages.length === 0) return bodies;
      bodies.push(...messages.map((m) => m.Body!));
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    }
  }
}

/** The controller's dependencies, on the emulator, with a fake clock and no real waiting. */
export function runtimeDeps(options: {
  tableName: string; clock: FakeClock; sagemaker?: SageMakerClient; autoscaling?: ApplicationAutoScalingClient; logs?: string[];
}): RolloutDeps & HandlerDeps {
  return {
    sagemaker: options.sagemaker ?? sagemakerClient(),
    autoscaling: options.autoscaling ?? autoScalingClient(),
    cloudwatch: cloudWatchClient(),
    sns: snsClient(),
    events: eventBridgeClient(),
    store: new StateStore(dynamoClient(), options.tableName),
    records: new DeploymentLog(dynamoClient(), options.tableName),
    eventSource: ROLLOUT_EVENT_SOURCE,
    now: options.clock.now,
    sleep: options.clock.sleep,
    log: (message) => { options.logs?.push(message); },
    retryBaseDelayMs: 1000,
    // The account and region of the events below: the handler ignores events from anywhere else.
    account: '123456789012',
    region: 'us-east-1',
  };
}

/** A canary endpoint in the emulator at 90/10 with two candidate alarms, registered as a deployment would. */
export interface DeployedCanary {
  readonly endpointName: string;
  readonly endpointConfigName: string;
  readonly spec: RolloutSpec;
  readonly alarms: string[];
  readonly inbox: AnnouncementInbox;
}

export async function deployCanary(deps: RolloutDeps, options: {
  percent?: number; promotion?: PromotionSpec;
  /** The candidate scales between these counts: its target is registered as CloudFormation would. */
  candidateScaling?: { minCapacity: number; maxCapacity: number; instanceCount: number };
} = {}): Promise<DeployedCanary> {
  const percent = options.percent ?? 10;
  const endpoint = await createCanaryEndpoint({
    production: { weight: 100 - percent },
    candidate: { weight: percent, instanceCount: options.candidateScaling?.instanceCount },
  });
  const candidateScaling = options.candidateScaling ? {
    resourceId: `endpoint/${endpoint.endpointName}/variant/${endpoint.candidate.variantName}`,
    dimension: 'sagemaker:variant:DesiredInstanceCount',
    minCapacity: options.candidateScaling.minCapacity,
    maxCapacity: options.candidateScaling.maxCapacity,
  } : undefined;
  if (candidateScaling) {
    await autoScalingClient().send(new RegisterScalableTargetCommand({
      ServiceNamespace: 'sagemaker', ResourceId: candidateScaling.resourceId, ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      MinCapacity: candidateScaling.minCapacity, MaxCapacity: candidateScaling.maxCapacity,
    }));
  }
  const alarms = [uniqueName('stack-rollout-5xx'), uniqueName('stack-rollout-model-errors')];
  for (const name of alarms) {
    await createAlarm({ name, endpointName: endpoint.endpointName, variantName: endpoint.candidate.variantName });
  }
  const inbox = await AnnouncementInbox.create(endpoint.endpointName);
  const spec: RolloutSpec = {
    kind: 'canary',
    productionVariant: endpoint.production.variantName,
    candidateVariant: endpoint.candidate.variantName,
    candidateModelName: endpoint.candidate.modelName,
    candidateModelPath: 'TestStack/CandidateModel',
    initialPercent: percent,
    promotion: options.promotion,
    alarmNames: alarms,
    topicArn: inbox.topicArn,
    candidateScaling,
  };
  await register(deps, endpoint.endpointName, spec, endpoint.endpointConfigName, { final: new Date(deps.now().getTime() + 60_000) });
  return { endpointName: endpoint.endpointName, endpointConfigName: endpoint.endpointConfigName, spec, alarms, inbox };
}

/** A `CloudWatch Alarm State Change` event exactly as EventBridge delivers it (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html). */
export function alarmEvent(alarmName: string, time: Date, state: 'ALARM' | 'OK' = 'ALARM'): Record<string, unknown> {
  return {
    'version': '0',
    'id': 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    'detail-type': 'CloudWatch Alarm State Change',
    'source': 'aws.cloudwatch',
    'account': '123456789012',
    'time': time.toISOString(),
    'region': 'us-east-1',
    'resources': [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`],
    'detail': {
      alarmName,
      state: {
        value: state,
        reason: 'Threshold Crossed: 2 out of the last 3 datapoints [4.2 (28/11/26 21:01:00), 3.9 (28/11/26 21:00:00)] were greater than the threshold (1.0).',
        reasonData: '{"version":"1.0","queryDate":"2026-11-28T21:02:10.000+0000","statistic":"Average","period":60,"recentDatapoints":[4.2,3.9],"threshold":1.0}',
        timestamp: time.toISOString(),
      },
      previousState: { value: state === 'ALARM' ? 'OK' : 'ALARM', reason: 'earlier', timestamp: new Date(time.getTime() - 600_000).toISOString() },
      configuration: {
        description: 'Rolls back the canary',
        metrics: [{ id: 'e1', expression: 'IF(invocations >= 20 OR errors >= 5, 100 * errors / invocations, 0)', returnData: true }],
      },
    },
  };
}

/** A `SageMaker Endpoint State Change` event as EventBridge delivers it (https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html). */
export function endpointStateEvent(endpointName: string, configName: string, time: Date, status = 'IN_SERVICE'): Record<string, unknown> {
  return {
    'version': '0',
    'id': 'a1b2c3d4-0000-1111-2222-333344445555',
    'detail-type': 'SageMaker Endpoint State Change',
    'source': 'aws.sagemaker',
    'account': '123456789012',
    'time': time.toISOString(),
    'region': 'us-east-1',
    'resources': [`arn:aws:sagemaker:us-east-1:123456789012:endpoint/${endpointName}`],
    'detail': {
      EndpointName: endpointName,
      EndpointArn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${endpointName}`,
      EndpointConfigName: configName,
      ProductionVariants: [],
      EndpointStatus: status,
      CreationTime: time.getTime() - 3_600_000,
      LastModifiedTime: time.getTime(),
      Tags: {},
    },
  };
}

/** A scheduled event of the one-minute promotion rule. */
export function scheduledEvent(time: Date): Record<string, unknown> {
  return {
    'version': '0', 'id': 'sched', 'detail-type': 'Scheduled Event', 'source': 'aws.events', 'account': '123456789012',
    'time': time.toISOString(), 'region': 'us-east-1', 'resources': ['arn:aws:events:us-east-1:123456789012:rule/promotion'], 'detail': {},
  };
}
