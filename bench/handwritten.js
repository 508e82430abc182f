// The same stack as bench/ours.js, written by hand with aws-cdk-lib's L1 (Cfn*) classes: the
// template a careful engineer would write without the library, property for property the one the
// library produces (bench/check-equivalence.js compares them), so that the benchmark measures the
// library's own cost and not a difference in what is deployed.
const path = require('path');
const { CfnResource, Fn, Stack } = require('aws-cdk-lib');
const cloudwatch = require('aws-cdk-lib/aws-cloudwatch');
const dynamodb = require('aws-cdk-lib/aws-dynamodb');
const events = require('aws-cdk-lib/aws-events');
const iam = require('aws-cdk-lib/aws-iam');
const lambda = require('aws-cdk-lib/aws-lambda');
const logs = require('aws-cdk-lib/aws-logs');
const sagemaker = require('aws-cdk-lib/aws-sagemaker');
const s3assets = require('aws-cdk-lib/aws-s3-assets');
const sqs = require('aws-cdk-lib/aws-sqs');

const STACK = 'BenchHand';
const PREFIX = `${STACK}-rollout-`;
const TAG = { key: 'cdk-sagemaker-rollout:managed-by', value: 'cdk-sagemaker-rollout' };
const arn = (rest) => Fn.sub(`arn:\${AWS::Partition}:${rest}`);
const policy = (statements) => ({ Version: '2012-10-17', Statement: statements });
const assume = (service) => policy([{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: service } }]);

/** Metric stat of a variant, as CloudFormation wants it. */
const stat = (endpointName, variant, metricName, s) => ({
  metric: { dimensions: [{ name: 'EndpointName', value: endpointName }, { name: 'VariantName', value: variant }], metricName, namespace: 'AWS/SageMaker' },
  period: 60, stat: s,
});

function rateAlarm(stack, id, endpointName, metricName, suffix, what) {
  return new cloudwatch.CfnAlarm(stack, id, {
    alarmDescription: `Rolls back the canary (variant candidate) of endpoint ${endpointName} when ${what} in 2 of 3 periods of 1 minute. Periods with fewer than 20 requests count only when they have at least 5 errors.`,
    alarmName: `${PREFIX}${endpointName}-candidate-${suffix}`,
    comparisonOperator: 'GreaterThanThreshold', datapointsToAlarm: 2, evaluationPeriods: 3,
    metrics: [
      { expression: 'IF(invocations_candidate >= 20 OR errors_candidate >= 5, 100 * errors_candidate / invocations_candidate, 0)', id: 'expr_1', label: `${metricName} rate (%)`, returnData: true },
      { id: 'invocations_candidate', metricStat: stat(endpointName, 'candidate', 'Invocations', 'Sum'), returnData: false },
      { id: 'errors_candidate', metricStat: stat(endpointName, 'candidate', metricName, 'Sum'), returnData: false },
    ],
    threshold: 1, treatMissingData: 'notBreaching',
  });
}

/** The dashboard the library draws for a canary endpoint, as JSON. */
function dashboardBody(endpointName, alarmNames) {
  const label = (v) => `${v === 'production' ? 'production' : 'candidate'} (${v})`;
  const line = (metric, v, options) => ['AWS/SageMaker', metric, 'EndpointName', endpointName, 'VariantName', v, options];
  const hidden = (metric, v, id, s) => line(metric, v, { id, visible: false, period: 60, stat: s });
  const graph = (title, metrics, unit, x, y) => ({
    type: 'metric', width: 8, height: 6, x, y,
    properties: { view: 'timeSeries', title, region: '${AWS::Region}', metrics, yAxis: { left: { label: unit, showUnits: false, min: 0 } }, period: 60 },
  });
  const rate = (metric) => ['production', 'candidate'].flatMap((v) => [
    [{ label: label(v), expression: `IF(invocations_${v} >= 0 OR errors_${v} >= 0, 100 * errors_${v} / invocations_${v}, 0)`, period: 60 }],
    hidden('Invocations', v, `invocations_${v}`, 'Sum'), hidden(metric, v, `errors_${v}`, 'Sum'),
  ]);
  const latency = (s) => ['production', 'candidate'].flatMap((v) => [
    [{ label: `${label(v)} ${s}`, expression: `latency_${v} / 1000`, period: 60 }], hidden('ModelLatency', v, `latency_${v}`, s),
  ]);
  const body = {
    start: '-PT3H',
    widgets: [
      graph('Requests per minute', ['production', 'candidate'].map((v) => line('Invocations', v, { label: label(v), period: 60, stat: 'Sum' })), 'requests', 0, 0),
      graph('5xx error rate (%)', rate('Invocation5XXErrors'), '%', 8, 0),
      graph('Model error rate (%)', rate('InvocationModelErrors'), '%', 16, 0),
      graph('Model latency p50 (ms)', latency('p50'), 'ms', 0, 6),
      graph('Model latency p99 (ms)', latency('p99'), 'ms', 8, 6),
      graph('Observed traffic share (%)', [
        [{ label: label('production'), expression: '100 * prod / (prod + cand)', period: 60 }],
        hidden('Invocations', 'production', 'prod', 'Sum'), hidden('Invocations', 'candidate', 'cand', 'Sum'),
        [{ label: label('candidate'), expression: '100 * cand / (prod + cand)', period: 60 }],
      ], '%', 16, 6),
      { type: 'alarm', width: 24, height: 3, x: 0, y: 12, properties: { title: 'Rollback and shadow alarms', alarms: alarmNames.map((name) => `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:${name}`) } },
    ],
  };
  return Fn.sub(JSON.stringify(body));
}

exports.buildStack = (app, n) => {
  const stack = new Stack(app, STACK);
  const endpointNames = Array.from({ length: n }, (_, i) => `benchhand-endpoint${i}-00000000`);

  // The models' role: one for all, with merged statements.
  const modelRole = new iam.CfnRole(stack, 'ModelRole', {
    assumeRolePolicyDocument: assume('sagemaker.amazonaws.com'),
    description: 'Execution role of the SageMaker models of this stack (cdk-sagemaker-rollout)',
  });
  new iam.CfnPolicy(stack, 'ModelRolePolicy', {
    policyName: 'models',
    roles: [modelRole.ref],
    policyDocument: policy([
      { Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'], Effect: 'Allow', Resource: arn('logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/sagemaker/Endpoints/*'), Sid: 'ContainerLogs' },
      { Action: 'cloudwatch:PutMetricData', Condition: { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } }, Effect: 'Allow', Resource: '*', Sid: 'ContainerMetrics' },
      { Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Effect: 'Allow', Resource: endpointNames.map((_, i) => arn(`ecr:us-east-1:123456789012:repository/model-${i}`)) },
      { Action: 'ecr:GetAuthorizationToken', Effect: 'Allow', Resource: '*' },
      { Action: 's3:GetObject', Effect: 'Allow', Resource: endpointNames.map((_, i) => arn(`s3:::bench-artifacts/model-${i}/*`)) },
      { Action: 'cloudwatch:DescribeAlarms', Effect: 'Allow', Resource: arn(`cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:${PREFIX}*`) },
    ]),
  });

  // The controller, once.
  const logGroup = new logs.CfnLogGroup(stack, 'ControllerLogs', { retentionInDays: 365 });
  logGroup.cfnOptions.deletionPolicy = 'Retain';
  logGroup.cfnOptions.updateReplacePolicy = 'Retain';
  const table = new dynamodb.CfnTable(stack, 'State', {
    attributeDefinitions: [{ attributeName: 'pk', attributeType: 'S' }, { attributeName: 'sk', attributeType: 'S' }],
    billingMode: 'PAY_PER_REQUEST',
    keySchema: [{ attributeName: 'pk', keyType: 'HASH' }, { attributeName: 'sk', keyType: 'RANGE' }],
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    sseSpecification: { sseEnabled: true },
  });
  table.cfnOptions.deletionPolicy = 'Retain';
  table.cfnOptions.updateReplacePolicy = 'Retain';
  const dlq = new sqs.CfnQueue(stack, 'DeadLetterQueue', { messageRetentionPeriod: 1209600, sqsManagedSseEnabled: true });
  dlq.cfnOptions.deletionPolicy = 'Delete';
  dlq.cfnOptions.updateReplacePolicy = 'Delete';
  const controllerRole = new iam.CfnRole(stack, 'ControllerRole', {
    assumeRolePolicyDocument: assume('lambda.amazonaws.com'),
    description: 'cdk-sagemaker-rollout controller: rolls back, promotes and checks the SageMaker endpoints of this stack',
  });
  const controllerPolicy = new iam.CfnPolicy(stack, 'ControllerRolePolicy', {
    policyName: 'controller',
    roles: [controllerRole.ref],
    policyDocument: policy([
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: logGroup.attrArn, Sid: 'OwnLogs' },
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: dlq.attrArn },
      { Action: ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:ConditionCheckItem', 'dynamodb:DeleteItem', 'dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:UpdateItem'], Effect: 'Allow', Resource: [table.attrArn] },
      { Action: 'events:PutEvents', Effect: 'Allow', Resource: arn('events:${AWS::Region}:${AWS::AccountId}:event-bus/default'), Sid: 'AnnounceOnDefaultBus' },
      { Action: 'sagemaker:DescribeEndpointConfig', Effect: 'Allow', Resource: arn('sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint-config/*'), Sid: 'ReadEndpointConfigs' },
      { Action: ['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpointWeightsAndCapacities'], Effect: 'Allow', Resource: endpointNames.map((e) => arn(`sagemaker:\${AWS::Region}:\${AWS::AccountId}:endpoint/${e}`)) },
      { Action: 'cloudwatch:DescribeAlarms', Effect: 'Allow', Resource: arn(`cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:${PREFIX}*`) },
    ]),
  });
  const code = new s3assets.Asset(stack, 'ControllerCode', { path: path.join(__dirname, '..', 'assets', 'rollout-controller') });
  const fn = new lambda.CfnFunction(stack, 'Controller', {
    architectures: ['arm64'], code: { s3Bucket: code.s3BucketName, s3Key: code.s3ObjectKey },
    deadLetterConfig: { targetArn: dlq.attrArn },
    description: 'cdk-sagemaker-rollout controller (one per stack)',
    environment: { variables: { ALARM_NAME_PREFIX: PREFIX, EVENT_SOURCE: 'cdk-sagemaker-rollout', TABLE_NAME: table.ref } },
    handler: 'index.handler', loggingConfig: { logGroup: logGroup.ref }, memorySize: 256,
    role: controllerRole.attrArn, runtime: 'nodejs24.x', timeout: 600,
  });
  fn.addDependency(controllerPolicy);
  new lambda.CfnEventInvokeConfig(stack, 'ControllerInvokeConfig', { functionName: fn.ref, maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 2, qualifier: '$LATEST' });
  new cloudwatch.CfnAlarm(stack, 'DeadLetterAlarm', {
    alarmDescription: 'A rollback, promotion, announcement or deployment check failed after every retry: read the dead-letter queue and act on the endpoint by hand (npx cdk-sagemaker-rollout status <endpoint>).',
    alarmName: `${PREFIX}controller-failed-events`, comparisonOperator: 'GreaterThanOrEqualToThreshold',
    dimensions: [{ name: 'QueueName', value: dlq.attrQueueName }], evaluationPeriods: 1,
    metricName: 'ApproximateNumberOfMessagesVisible', namespace: 'AWS/SQS', period: 60, statistic: 'Maximum', threshold: 1, treatMissingData: 'notBreaching',
  });
  const rules = [
    ['AlarmRule', 'cdk-sagemaker-rollout: a canary or shadow alarm went to ALARM', { 'source': ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], 'detail': { alarmName: [{ prefix: PREFIX }], state: { value: ['ALARM'] } } }],
    ['EndpointRule', 'cdk-sagemaker-rollout: an endpoint is back in service (re-apply standing rollbacks and current steps)', { 'source': ['aws.sagemaker'], 'detail-type': ['SageMaker Endpoint State Change'], 'detail': { EndpointStatus: ['IN_SERVICE'] } }],
  ].map(([id, description, eventPattern]) => {
    const rule = new events.CfnRule(stack, id, {
      description, eventPattern, state: 'ENABLED',
      targets: [{ arn: fn.attrArn, deadLetterConfig: { arn: dlq.attrArn }, id: 'Target0', retryPolicy: { maximumEventAgeInSeconds: 7200, maximumRetryAttempts: 8 } }],
    });
    new lambda.CfnPermission(stack, `${id}Permission`, { action: 'lambda:InvokeFunction', functionName: fn.attrArn, principal: 'events.amazonaws.com', sourceArn: rule.attrArn });
    return rule;
  });
  new sqs.CfnQueuePolicy(stack, 'DeadLetterQueuePolicy', {
    queues: [dlq.ref],
    policyDocument: policy([
      { Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Effect: 'Deny', Principal: { AWS: '*' }, Resource: dlq.attrArn },
      ...rules.map((rule, i) => ({ Action: 'sqs:SendMessage', Condition: { ArnEquals: { 'aws:SourceArn': rule.attrArn } }, Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Resource: dlq.attrArn, Sid: `AllowEventRule${STACK}Controller${i === 0 ? 'AlarmRule' : 'EndpointRule'}Events` })),
    ]),
  });

  // Per endpoint.
  endpointNames.forEach((endpointName, i) => {
    const model = (version) => {
      const m = new sagemaker.CfnModel(stack, `Model${i}V${version}`, {
        executionRoleArn: modelRole.attrArn,
        primaryContainer: { image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/model-${i}:${version}`, modelDataUrl: `s3://bench-artifacts/model-${i}/${version}/model.tar.gz` },
        tags: [TAG],
      });
      m.cfnOptions.deletionPolicy = 'Retain';
      m.cfnOptions.updateReplacePolicy = 'Retain';
      m.addDependency(modelRole);
      return m;
    };
    const v1 = model(1);
    const v2 = model(2);
    const config = new sagemaker.CfnEndpointConfig(stack, `Config${i}`, {
      productionVariants: [
        { initialInstanceCount: 2, initialVariantWeight: 90, instanceType: 'ml.m5.xlarge', modelName: v1.attrModelName, variantName: 'production' },
        { initialInstanceCount: 2, initialVariantWeight: 10, instanceType: 'ml.m5.xlarge', modelName: v2.attrModelName, variantName: 'candidate' },
      ],
      tags: [TAG],
    });
    config.cfnOptions.updateReplacePolicy = 'Retain';
    config.cfnOptions.deletionPolicy = 'Delete';
    const alarms = [
      rateAlarm(stack, `Alarm${i}5xx`, endpointName, 'Invocation5XXErrors', '5xx-error-rate', 'more than 1% of its requests get a 5xx'),
      rateAlarm(stack, `Alarm${i}Model`, endpointName, 'InvocationModelErrors', 'model-error-rate', 'the model fails more than 1% of its requests'),
    ];
    const alarmNames = alarms.map((a) => a.alarmName);
    const endpoint = new sagemaker.CfnEndpoint(stack, `Endpoint${i}`, {
      deploymentConfig: {
        autoRollbackConfiguration: { alarms: alarmNames.map((alarmName) => ({ alarmName })) },
        blueGreenUpdatePolicy: { maximumExecutionTimeoutInSeconds: 2400, terminationWaitInSeconds: 600, trafficRoutingConfiguration: { type: 'ALL_AT_ONCE', waitIntervalInSeconds: 0 } },
      },
      endpointConfigName: config.attrEndpointConfigName,
      endpointName,
      tags: [TAG, { key: 'cdk-sagemaker-rollout:state-table', value: table.ref }],
    });
    alarms.forEach((a) => endpoint.addDependency(a));
    const spec = {
      endpointName, endpointConfigName: '@CONFIG@', verify: true, rollbackAlarmNames: alarmNames,
      rollout: { kind: 'canary', productionVariant: 'production', candidateVariant: 'candidate', candidateModelName: '@MODEL@', candidateModelPath: `${STACK}/Model${i}V2`, initialPercent: 10, alarmNames },
    };
    const [a, rest] = JSON.stringify(spec).split('@CONFIG@');
    const [b, c] = rest.split('@MODEL@');
    const check = new CfnResource(stack, `Deployment${i}`, {
      type: 'Custom::SageMakerRolloutDeployment',
      properties: { ServiceToken: fn.attrArn, Spec: Fn.join('', [a, config.attrEndpointConfigName, b, v2.attrModelName, c]) },
    });
    check.addDependency(endpoint);
    check.addDependency(controllerPolicy);
    new cloudwatch.CfnDashboard(stack, `Dashboard${i}`, { dashboardBody: dashboardBody(endpointName, alarmNames) });
  });
  return stack;
};
