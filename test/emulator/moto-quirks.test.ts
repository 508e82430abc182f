/**
 * Pins the moto behaviours listed in docs/TESTING.md ("moto quirks we met"), each observed through
 * the real SDK. A test here failing after a moto upgrade means the table (and maybe a workaround in
 * our tests) needs updating, not that our code broke.
 */
import {
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  ListMetricsCommand,
  MetricDataQuery,
  PutCompositeAlarmCommand,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  AddTagsCommand,
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListModelsCommand,
  ListTagsCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
} from '@aws-sdk/client-sagemaker';
import { CreateTopicCommand, PublishCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import {
  cloudWatchClient,
  createAlarm,
  createCanaryEndpoint,
  createEndpoint,
  createEndpointConfig,
  createModel,
  dynamoClient,
  eventBridgeClient,
  putVariantMetric,
  s3Client,
  sagemakerClient,
  setAlarmState,
  snsClient,
  sqsClient,
  uniqueName,
} from '../support/emulator';

// One attempt: moto answers unimplemented operations with HTTP 500, which the SDK would retry.
const sagemaker = sagemakerClient({ maxAttempts: 1 });
const cloudwatch = cloudWatchClient({ maxAttempts: 1 });
const sqs = sqsClient();

async function createQueue(prefix: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl: url } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName(prefix) }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return { url: url!, arn: Attributes!.QueueArn! };
}

async function receiveBodies(queueUrl: string): Promise<string[]> {
  const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  return (Messages ?? []).map((message) => message.Body ?? '');
}

describe('moto SageMaker', () => {
  test('an endpoint is InService at once, and a weight update is complete at once', async () => {
    const canary = await createCanaryEndpoint();
    const created = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: canary.endpointName }));
    expect(created.EndpointStatus).toBe('InService');

    await sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({
      EndpointName: canary.endpointName,
      DesiredWeightsAndCapacities: [{ VariantName: 'candidate', DesiredWeight: 0.5, DesiredInstanceCount: 1 }],
    }));

    const updated = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: canary.endpointName }));
    expect(updated.EndpointStatus).toBe('InService');
    expect(updated.ProductionVariants?.[1]).toMatchObject({ CurrentWeight: 0.5, DesiredWeight: 0.5 });
    expect(updated.LastModifiedTime).toEqual(created.LastModifiedTime);
    expect(updated.PendingDeploymentSummary).toBeUndefined();
    expect(updated.ProductionVariants?.[1]?.VariantStatus).toBeUndefined();
  });

  test('a variant created with weight 0 has no weight fields in DescribeEndpoint', async () => {
    const canary = await createCanaryEndpoint({ production: { weight: 1 }, candidate: { weight: 0 } });
    const { ProductionVariants } = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: canary.endpointName }));
    expect(ProductionVariants?.[1]).toEqual({ VariantName: 'candidate', CurrentInstanceCount: 1, DesiredInstanceCount: 1 });
  });

  test('a weight update without instance counts drops the counts; a count-only update drops the weight', async () => {
    const canary = await createCanaryEndpoint();
    await sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({
      EndpointName: canary.endpointName,
      DesiredWeightsAndCapacities: [{ VariantName: 'production', DesiredWeight: 0.5 }, { VariantName: 'candidate', DesiredInstanceCount: 2 }],
    }));
    const { ProductionVariants } = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: canary.endpointName }));
    expect(ProductionVariants).toEqual([
      { VariantName: 'production', CurrentWeight: 0.5, DesiredWeight: 0.5 },
      { VariantName: 'candidate', CurrentInstanceCount: 2, DesiredInstanceCount: 2 },
    ]);
  });

  test('instance types are checked against an old list', async () => {
    const model = uniqueName('model');
    await createModel(model);
    await expect(createEndpointConfig({
      name: uniqueName('config'),
      variants: [{ variantName: 'production', modelName: model, weight: 1, instanceType: 'ml.g5.xlarge' }],
    })).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining("Value 'ml.g5.xlarge' at 'instanceType'") });
  });

  test('ShadowProductionVariants and DeploymentConfig are dropped silently', async () => {
    const model = uniqueName('model');
    const config = uniqueName('config');
    const endpoint = uniqueName('endpoint');
    await createModel(model);
    await sagemaker.send(new CreateEndpointConfigCommand({
      EndpointConfigName: config,
      ProductionVariants: [{ VariantName: 'production', ModelName: model, InitialVariantWeight: 1, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }],
      ShadowProductionVariants: [{ VariantName: 'shadow', ModelName: model, InitialVariantWeight: 0.5, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }],
    }));
    await sagemaker.send(new CreateEndpointCommand({
      EndpointName: endpoint,
      EndpointConfigName: config,
      DeploymentConfig: { BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 } } },
    }));

    expect((await sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: config }))).ShadowProductionVariants).toBeUndefined();
    const described = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpoint }));
    expect(described.ShadowProductionVariants).toBeUndefined();
    expect(described.LastDeploymentConfig).toBeUndefined();
  });

  test('UpdateEndpoint is not implemented: HTTP 500 with an HTML body', async () => {
    const canary = await createCanaryEndpoint();
    await expect(sagemaker.send(new UpdateEndpointCommand({ EndpointName: canary.endpointName, EndpointConfigName: canary.endpointConfigName })))
      .rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
  });

  test('creating an endpoint that exists replaces it (and its tags) instead of failing', async () => {
    const canary = await createCanaryEndpoint();
    const arn = (await sagemaker.send(new DescribeEndpointCommand({ EndpointName: canary.endpointName }))).EndpointArn;
    await sagemaker.send(new AddTagsCommand({ ResourceArn: arn, Tags: [{ Key: 'team', Value: 'ml' }] }));

    await createEndpoint({ name: canary.endpointName, configName: canary.endpointConfigName });

    expect((await sagemaker.send(new ListTagsCommand({ ResourceArn: arn }))).Tags).toEqual([]);
  });

  test('ARNs keep the name as created (SageMaker lower-cases them), and names are case-sensitive', async () => {
    const canary = await createCanaryEndpoint();
    const name = `Mixed-${canary.endpointName}`;
    await expect(createEndpoint({ name, configName: canary.endpointConfigName }))
      .resolves.toBe(`arn:aws:sagemaker:us-east-1:123456789012:endpoint/${name}`);
    await expect(sagemaker.send(new DescribeEndpointCommand({ EndpointName: name.toLowerCase() })))
      .rejects.toMatchObject({ name: 'ValidationException' });
  });

  test('tags given at create time, and AddTags, show in ListTags for endpoints, configs and models', async () => {
    const model = uniqueName('model');
    const config = uniqueName('config');
    const endpoint = uniqueName('endpoint');
    await createModel(model);
    const configArn = await createEndpointConfig({ name: config, variants: [{ variantName: 'production', modelName: model, weight: 1 }] });
    const { EndpointArn } = await sagemaker.send(new CreateEndpointCommand({
      EndpointName: endpoint, EndpointConfigName: config, Tags: [{ Key: 'created', Value: 'yes' }],
    }));
    const modelArn = `arn:aws:sagemaker:us-east-1:123456789012:model/${model}`;

    for (const arn of [EndpointArn!, configArn, modelArn]) {
      await sagemaker.send(new AddTagsCommand({ ResourceArn: arn, Tags: [{ Key: 'added', Value: 'yes' }] }));
    }

    expect((await sagemaker.send(new ListTagsCommand({ ResourceArn: EndpointArn }))).Tags).toEqual([
      { Key: 'created', Value: 'yes' }, { Key: 'added', Value: 'yes' },
    ]);
    expect((await sagemaker.send(new ListTagsCommand({ ResourceArn: configArn }))).Tags).toEqual([{ Key: 'added', Value: 'yes' }]);
    expect((await sagemaker.send(new ListTagsCommand({ ResourceArn: modelArn }))).Tags).toEqual([{ Key: 'added', Value: 'yes' }]);
  });

  test('ListTags of an unknown ARN is HTTP 500', async () => {
    await expect(sagemaker.send(new ListTagsCommand({ ResourceArn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${uniqueName('missing')}` })))
      .rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
  });

  test('ListEndpoints and ListEndpointConfigs filter by NameContains, ListModels ignores it; a live endpoint\'s config and models can be deleted', async () => {
    const canary = await createCanaryEndpoint();
    const name = canary.endpointName;
    expect((await sagemaker.send(new ListEndpointsCommand({ NameContains: name }))).Endpoints?.map((e) => e.EndpointName)).toEqual([name]);
    expect((await sagemaker.send(new ListEndpointConfigsCommand({ NameContains: canary.endpointConfigName }))).EndpointConfigs)
      .toHaveLength(1);
    const models = (await sagemaker.send(new ListModelsCommand({ NameContains: canary.candidate.modelName }))).Models ?? [];
    expect(models.map((model) => model.ModelName)).toEqual(expect.arrayContaining([canary.candidate.modelName, canary.production.modelName]));

    await sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: canary.endpointConfigName }));
    await sagemaker.send(new DeleteModelCommand({ ModelName: canary.candidate.modelName }));

    const described = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }));
    expect(described).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: canary.endpointConfigName });
    await expect(sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: canary.endpointConfigName })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('Could not find endpoint configuration') });
  });
});

describe('moto CloudWatch', () => {
  test('a new alarm starts in OK; SetAlarmState sticks; PutMetricAlarm on it resets it to OK', async () => {
    const name = uniqueName('alarm');
    await createAlarm({ name });
    const stateOf = async (): Promise<string | undefined> =>
      (await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms?.[0]?.StateValue;
    expect(await stateOf()).toBe('OK');

    await setAlarmState(name, 'ALARM');
    expect(await stateOf()).toBe('ALARM');

    await createAlarm({ name, threshold: 2 });
    expect(await stateOf()).toBe('OK');

    await expect(cloudwatch.send(new SetAlarmStateCommand({ AlarmName: `${name}-missing`, StateValue: 'ALARM', StateReason: 'test' })))
      .rejects.toMatchObject({ name: 'ResourceNotFound', $metadata: { httpStatusCode: 404 } });
  });

  test('DescribeAlarmHistory and PutCompositeAlarm are not implemented: HTTP 500', async () => {
    const name = uniqueName('alarm');
    await createAlarm({ name });
    await expect(cloudwatch.send(new DescribeAlarmHistoryCommand({ AlarmName: name })))
      .rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    await expect(cloudwatch.send(new PutCompositeAlarmCommand({ AlarmName: uniqueName('composite'), AlarmRule: `ALARM("${name}")` })))
      .rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
  });

  test('ListMetrics lists a metric once per data point put', async () => {
    const endpointName = uniqueName('metrics');
    await putVariantMetric({ endpointName, variantName: 'candidate', metricName: 'Invocations', value: 1 });
    await putVariantMetric({ endpointName, variantName: 'candidate', metricName: 'Invocations', value: 2 });

    const { Metrics } = await cloudwatch.send(new ListMetricsCommand({
      Namespace: 'AWS/SageMaker', MetricName: 'Invocations', Dimensions: [{ Name: 'EndpointName', Value: endpointName }],
    }));
    expect(Metrics).toHaveLength(2);
  });

  test('DescribeAlarms ignores StateValue when AlarmNames or AlarmNamePrefix is given, and ignores MaxRecords', async () => {
    const prefix = uniqueName('alarm');
    await createAlarm({ name: `${prefix}-a` });
    await createAlarm({ name: `${prefix}-b` });
    await setAlarmState(`${prefix}-a`, 'ALARM');

    const byName = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [`${prefix}-a`], StateValue: 'OK' }));
    expect(byName.MetricAlarms?.map((alarm) => alarm.StateValue)).toEqual(['ALARM']);
    const byPrefix = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: prefix, StateValue: 'ALARM' }));
    expect(byPrefix.MetricAlarms?.map((alarm) => alarm.AlarmName)).toEqual([`${prefix}-a`, `${prefix}-b`]);
    // Alone, StateValue filters (other tests' alarms are in the answer too).
    const byState = await cloudwatch.send(new DescribeAlarmsCommand({ StateValue: 'ALARM' }));
    const names = byState.MetricAlarms?.map((alarm) => alarm.AlarmName);
    expect(names).toContain(`${prefix}-a`);
    expect(names).not.toContain(`${prefix}-b`);
    const paged = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: prefix, MaxRecords: 1 }));
    expect(paged.MetricAlarms).toHaveLength(2);
    expect(paged.NextToken).toBeUndefined();
  });

  test('GetMetricData: metric math returns no values; dimension order matters; percentiles fail; ScanBy works', async () => {
    const endpointName = uniqueName('metrics');
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 3 * 60_000);
    const nextMinute = new Date(minute.getTime() + 60_000);
    await putVariantMetric({ endpointName, variantName: 'candidate', metricName: 'Invocations', value: 10, timestamp: minute });
    await putVariantMetric({ endpointName, variantName: 'candidate', metricName: 'Invocations', value: 4, timestamp: nextMinute });
    await putVariantMetric({ endpointName, variantName: 'candidate', metricName: 'Invocation5XXErrors', value: 1, timestamp: minute });
    const dimensions = [{ Name: 'EndpointName', Value: endpointName }, { Name: 'VariantName', Value: 'candidate' }];
    const query = (Id: string, MetricName: string, Stat = 'Sum', Dimensions = dimensions): MetricDataQuery =>
      ({ Id, MetricStat: { Metric: { Namespace: 'AWS/SageMaker', MetricName, Dimensions }, Period: 60, Stat } });
    const get = (MetricDataQueries: MetricDataQuery[], ScanBy?: 'TimestampAscending'): Promise<unknown> => cloudwatch.send(new GetMetricDataCommand({
      StartTime: new Date(minute.getTime() - 5 * 60_000), EndTime: new Date(Date.now() + 60_000), MetricDataQueries, ScanBy,
    })).then((output) => output.MetricDataResults?.map((result) => [result.Id, result.Values]));

    expect(await get([query('errors', 'Invocation5XXErrors'), query('invocations', 'Invocations'), { Id: 'rate', Expression: 'errors / invocations' }]))
      .toEqual([['errors', [1]], ['invocations', [4, 10]], ['rate', []]]);
    expect(await get([query('invocations', 'Invocations')], 'TimestampAscending')).toEqual([['invocations', [10, 4]]]);
    expect(await get([query('swapped', 'Invocations', 'Sum', [...dimensions].reverse())])).toEqual([['swapped', []]]);
    await expect(get([query('p99', 'Invocations', 'p99')])).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
  });

  test('metric-math alarms are stored as given', async () => {
    const name = uniqueName('alarm');
    const metric = (MetricName: string): { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] } =>
      ({ Namespace: 'AWS/SageMaker', MetricName, Dimensions: [{ Name: 'EndpointName', Value: 'ep' }, { Name: 'VariantName', Value: 'candidate' }] });
    const metrics = [
      { Id: 'errors', MetricStat: { Metric: metric('Invocation5XXErrors'), Period: 60, Stat: 'Sum' }, ReturnData: false },
      { Id: 'invocations', MetricStat: { Metric: metric('Invocations'), Period: 60, Stat: 'Sum' }, ReturnData: false },
      { Id: 'rate', Expression: 'errors / invocations', Label: 'error rate', ReturnData: true },
    ];
    await cloudwatch.send(new PutMetricAlarmCommand({
      AlarmName: name, EvaluationPeriods: 1, Threshold: 0.05, ComparisonOperator: 'GreaterThanThreshold', Metrics: metrics,
    }));

    const { MetricAlarms } = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
    expect(MetricAlarms?.[0]?.Metrics).toEqual(metrics);
  });
});

describe('moto SNS, SQS, EventBridge, DynamoDB, S3', () => {
  test('SNS delivers to an SQS subscription, in the SNS envelope', async () => {
    const sns = snsClient();
    const queue = await createQueue('sns-target');
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: uniqueName('topic') }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: queue.arn }));

    await sns.send(new PublishCommand({ TopicArn, Subject: 'rollback', Message: '{"endpoint":"ep"}' }));

    const bodies = await receiveBodies(queue.url);
    expect(bodies.map((body) => JSON.parse(body))).toEqual([
      expect.objectContaining({ Type: 'Notification', TopicArn, Subject: 'rollback', Message: '{"endpoint":"ep"}' }),
    ]);
  });

  test('EventBridge delivers PutEvents to an SQS target (without the account field); SetAlarmState emits no event', async () => {
    const events = eventBridgeClient();
    const queue = await createQueue('events-target');
    const alarmName = uniqueName('alarm');
    const rule = uniqueName('rule');
    await events.send(new PutRuleCommand({
      Name: rule,
      EventPattern: JSON.stringify({ source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { alarmName: [alarmName] } }),
    }));
    await events.send(new PutTargetsCommand({ Rule: rule, Targets: [{ Id: 'queue', Arn: queue.arn }] }));
    await createAlarm({ name: alarmName });

    await setAlarmState(alarmName, 'ALARM');
    await events.send(new PutEventsCommand({
      Entries: [{ Source: 'aws.cloudwatch', DetailType: 'CloudWatch Alarm State Change', Detail: JSON.stringify({ alarmName, state: { value: 'ALARM' } }) }],
    }));

    const bodies = await receiveBodies(queue.url);
    expect(bodies).toHaveLength(1);
    const event = JSON.parse(bodies[0]);
    expect(Object.keys(event).sort()).toEqual(['detail', 'detail-type', 'id', 'region', 'resources', 'source', 'time', 'version']);
    expect(event).toMatchObject({ 'source': 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', 'detail': { alarmName } });
  });

  test('DynamoDB conditional writes and transactions fail the way AWS fails them', async () => {
    const dynamo = dynamoClient();
    const TableName = uniqueName('table');
    await dynamo.send(new CreateTableCommand({
      TableName, BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }));
    const put = new PutItemCommand({ TableName, Item: { pk: { S: 'a' }, version: { N: '1' } }, ConditionExpression: 'attribute_not_exists(pk)' });
    await dynamo.send(put);
    await expect(dynamo.send(put)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await expect(dynamo.send(new UpdateItemCommand({
      TableName, Key: { pk: { S: 'a' } }, UpdateExpression: 'SET version = :next', ConditionExpression: 'version = :expected',
      ExpressionAttributeValues: { ':next': { N: '3' }, ':expected': { N: '2' } },
    }))).rejects.toBeInstanceOf(ConditionalCheckFailedException);

    const transaction = dynamo.send(new TransactWriteItemsCommand({
      TransactItems: [
        { Put: { TableName, Item: { pk: { S: 'b' } } } },
        { ConditionCheck: { TableName, Key: { pk: { S: 'a' } }, ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': { N: '2' } } } },
      ],
    }));
    await expect(transaction).rejects.toBeInstanceOf(TransactionCanceledException);
    await expect(transaction).rejects.toMatchObject({ CancellationReasons: [{ Code: 'None' }, expect.objectContaining({ Code: 'ConditionalCheckFailed' })] });
    expect((await dynamo.send(new GetItemCommand({ TableName, Key: { pk: { S: 'b' } } }))).Item).toBeUndefined();
  });

  test('S3 path-style put, list and get', async () => {
    const s3 = s3Client();
    const Bucket = uniqueName('bucket');
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'ep/candidate/2026/01/01/00/capture.jsonl', Body: '{"captureData":{}}\n' }));

    const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'ep/' }));
    expect(listed.Contents?.map((object) => object.Key)).toEqual(['ep/candidate/2026/01/01/00/capture.jsonl']);
    const object = await s3.send(new GetObjectCommand({ Bucket, Key: 'ep/candidate/2026/01/01/00/capture.jsonl' }));
    expect(await object.Body?.transformToString()).toBe('{"captureData":{}}\n');
  });
});
