import { CustomResource, Duration, Lazy, RemovalPolicy, Stack, Token, cx_api as cxapi } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeFindings, acknowledgeWildcards, INLINE_POLICY_REASON } from '../private/acknowledge';
import { compactArn } from '../private/naming';
import { withConstructPath } from '../private/validation';
import { handlerBundleDir } from '../private/package-assets';
import { DeploymentSpec, REVERT_GUARD_RESOURCE_TYPE, RevertGuardEntry, ROLLOUT_EVENT_SOURCE, ScalingGuardSpec } from '../runtime/spec';

/** A canary or shadow candidate the controller watches. */
export interface GuardedRollout {
  /** The endpoint's name. */
  readonly endpointName: string;
  /** The endpoint's ARN, in SageMaker's lower-case form. */
  readonly endpointArn: string;
  /** The candidate's alarms: a canary's rollback alarms, or a shadow's notifying alarms. */
  readonly alarms: cloudwatch.IAlarm[];
  /** Their names, literal for the library's own alarms. */
  readonly alarmNames: string[];
  /** Where rollbacks, promotions and shadow alarms are announced besides EventBridge. */
  readonly topic?: sns.ITopic;
  /** Whether the candidate has a promotion schedule (the controller then runs every minute). */
  readonly promotion: boolean;
  /**
   * A canary, whose weights the controller steers; a shadow is only described and announced (its
   * alarms never change traffic), so a shadow gets no permission to change weights.
   */
  readonly canary: boolean;
}

/** What the post-deploy check of an endpoint needs. */
export interface VerifiedEndpoint {
  /** The endpoint's ARN, in SageMaker's lower-case form. */
  readonly endpointArn: string;
  /** The rollback alarms, named in the failure message when one of them is in ALARM. */
  readonly alarms: cloudwatch.IAlarm[];
  /** Their names, literal for the library's own alarms. */
  readonly alarmNames: string[];
  /** Told when SageMaker rolled a deployment back on its own. */
  readonly topic?: sns.ITopic;
}

const CONTROLLER_ID = 'SageMakerRolloutController';

/**
 * The runtime side of the library, one per stack whatever the number of endpoints: a function that
 * rolls canaries back when their alarms fire, re-applies standing rollbacks after deployments,
 * promotes canaries step by step, announces shadow alarms and checks every deployment afterwards.
 *
 * Parts are created only when an endpoint needs them: a stack of blue/green endpoints gets the
 * function, its dead-letter queue, the state table (where the post-deploy check records every
 * deployment, for `revert`) and the revert guard; the first canary or shadow adds the rules; the
 * first promotion schedule adds a one-minute schedule.
 */
export class RolloutController extends Construct {
  /** The controller of the stack that holds `scope`, created on first use. */
  public static of(scope: Construct): RolloutController {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(CONTROLLER_ID) as RolloutController | undefined) ?? new RolloutController(stack, CONTROLLER_ID);
  }

  /** The function that serves every endpoint of the stack. */
  public readonly function: lambda.Function;
  /** Prefix of the names of alarms this library creates in the stack; the alarm rule matches it. */
  public readonly alarmNamePrefix: string;

  private readonly role: iam.Role;
  private readonly endpointStatement: iam.PolicyStatement;
  private readonly describeStatement: iam.PolicyStatement;
  private readonly alarmStatement: iam.PolicyStatement;
  private readonly verifiedArns = new Set<string>();
  private readonly guardedArns = new Set<string>();
  private readonly topics = new Set<sns.ITopic>();
  private readonly deadLetterQueue: sqs.Queue;
  private readonly deadLetterAlarm: cloudwatch.Alarm;
  private runtime?: {
    table: dynamodb.Table;
    alarmRule: events.Rule;
  };
  private stateTable?: dynamodb.Table;
  private revertGuard?: { resource: CustomResource; entries: RevertGuardEntry[] };
  private schedule?: events.Rule;
  private scalingAllowed = false;
  private readsEndpointConfigs = false;
  private announces = false;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    try {
      // One statement per action set however many endpoints join, so the policy needs no overflow policies.
      this.node.setContext(cxapi.IAM_MINIMIZE_POLICIES, true);
      // CDK sizes an ARN it cannot read at 150 characters when it decides whether a policy overflows.
      // The ARNs here are endpoint ARNs, at most 126 characters resolved (a 63-character name in the
      // longest partition and region), and the library's alarm prefix.
      this.node.setContext('@aws-cdk/aws-iam.arnSizeEstimate', 130);
      this.alarmNamePrefix = alarmNamePrefixOf(Stack.of(this));

      const logGroup = new logs.LogGroup(this, 'Logs', {
        retention: logs.RetentionDays.ONE_YEAR,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      acknowledgeFindings(logGroup, {
        nag: ['HIPAA.Security-CloudWatchLogGroupEncrypted', 'NIST.800.53.R5-CloudWatchLogGroupEncrypted'],
        checkov: ['CKV_AWS_158'],
      }, 'CloudWatch Logs encrypts every log group at rest. These logs hold operational metadata only (endpoint, variant and alarm names, weights, '
        + 'decisions, errors), never inference requests, answers or captures; a customer managed key would need a key policy for the CloudWatch Logs '
        + 'service in every stack, which the library cannot add to a key it did not create.');
      // An explicit role instead of the managed AWSLambdaBasicExecutionRole: logs go to this log group only.
      this.role = new iam.Role(this, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: 'cdk-sagemaker-rollout controller: rolls back, promotes and checks the SageMaker endpoints of this stack',
      });
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        sid: 'OwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }));
      acknowledgeFindings(this.role, { nag: ['HIPAA.Security-IAMNoInlinePolicy', 'NIST.800.53.R5-IAMNoInlinePolicy'] }, INLINE_POLICY_REASON);

      // Statements whose resources grow as endpoints join; rendered once, at synthesis.
      // Canaries may be described and steered; shadows and endpoints that are only checked after
      // deployments may only be described. Each endpoint is in one list, never both.
      this.describeStatement = new iam.PolicyStatement({ actions: ['sagemaker:DescribeEndpoint'] });
      this.endpointStatement = new iam.PolicyStatement({ actions: ['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpointWeightsAndCapacities'] });
      this.alarmStatement = new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'] });

      // Events that could not be delivered or handled after every retry land here, and page someone: alarm and
      // endpoint events as much as CloudFormation's requests to the post-deploy check (also asynchronous invocations).
      this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
        alarmName: `${this.alarmNamePrefix}controller-failed-events`,
        alarmDescription: 'A rollback, promotion, announcement or deployment check failed after every retry: read the dead-letter queue and act on the endpoint by hand (npx cdk-sagemaker-rollout status <endpoint>).',
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });

      this.function = new lambda.Function(this, 'Function', {
        description: 'cdk-sagemaker-rollout controller (one per stack)',
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        code: lambda.Code.fromAsset(handlerBundleDir('rollout-controller')),
        handler: 'index.handler',
        role: this.role,
        logGroup,
        memorySize: 256,
        // A rollback retries a busy endpoint for up to 30 minutes across this run and Lambda's two
        // retries of an asynchronous event; a deployment check polls an updating endpoint for 8.
        timeout: Duration.minutes(10),
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
        deadLetterQueue: this.deadLetterQueue,
        environment: {
          ALARM_NAME_PREFIX: this.alarmNamePrefix,
          EVENT_SOURCE: ROLLOUT_EVENT_SOURCE,
          // Events of other accounts are ignored (the region is the function's own, AWS_REGION).
          STACK_ACCOUNT: Stack.of(this).account,
        },
      });
      acknowledgeFindings(this.function, {
        nag: ['HIPAA.Security-LambdaInsideVPC', 'NIST.800.53.R5-LambdaInsideVPC'],
        checkov: ['CKV_AWS_117'],
      }, 'The controller serves no network clients and calls only AWS APIs (SageMaker, CloudWatch, DynamoDB, SNS, EventBridge), over TLS with signed '
        + 'requests; nothing it reaches lives in a VPC. In a VPC it would need a NAT gateway, or VPC endpoints for each of those services, in every stack using the library.');
      acknowledgeFindings(this.function, {
        nag: ['HIPAA.Security-LambdaConcurrency', 'NIST.800.53.R5-LambdaConcurrency'],
        checkov: ['CKV_AWS_115'],
      }, 'Reserved concurrency is taken from the account\'s pool and fails to deploy where the quota leaves no room (new accounts have 10), and a low cap '
        + 'would throttle rollbacks exactly when several alarms fire at once. Invocations are bounded by their sources: alarm and endpoint state changes, '
        + 'CloudFormation requests, and one per minute of the promotion schedule.');
      acknowledgeFindings(this.function, { checkov: ['CKV_AWS_173'] }, 'The environment holds no secrets (the alarm name prefix, the event source, '
        + 'the state table\'s name); Lambda encrypts it at rest with its AWS managed key, and a customer managed key would protect nothing more.');
    } catch (error) {
      throw withConstructPath(this, error);
    }
  }

  /**
   * Lets the post-deploy check describe the endpoint and read its rollback alarms. Call it after
   * `guardRollout` for the same endpoint, whose grant already covers describing it.
   */
  public verifyEndpoint(endpoint: VerifiedEndpoint): void {
    if (!this.guardedArns.has(endpoint.endpointArn)) this.addEndpointArn(this.describeStatement, this.verifiedArns, endpoint.endpointArn);
    // Deployments and reverts are recorded in the state table, and a deployment SageMaker rolled
    // back (or one that ends a revert) is announced, also on a blue/green-only stack.
    this.ensureTable();
    this.allowAnnouncing();
    this.addAlarms(endpoint.alarms, endpoint.alarmNames);
    if (endpoint.topic) this.allowPublish(endpoint.topic);
  }

  /** Watches a canary's or shadow's alarms and steers its weights. */
  public guardRollout(rollout: GuardedRollout): void {
    const runtime = this.ensureRuntime();
    if (rollout.canary) {
      this.addEndpointArn(this.endpointStatement, this.guardedArns, rollout.endpointArn);
      this.allowReadingEndpointConfigs();
    } else {
      this.addEndpointArn(this.describeStatement, this.verifiedArns, rollout.endpointArn);
    }
    this.addAlarms(rollout.alarms, rollout.alarmNames);
    // Alarms this library created match the rule by prefix; alarms given by the user are listed by name.
    const extraNames = rollout.alarmNames.filter((name) => !isOwnAlarmName(name, this.alarmNamePrefix));
    if (extraNames.length > 0) {
      runtime.alarmRule.addEventPattern({ detail: { alarmName: extraNames } });
    }
    if (rollout.topic) this.allowPublish(rollout.topic);
    if (rollout.promotion) this.ensureSchedule();
  }

  /** Lets the function announce on the topic, which also hears about failed events. */
  private allowPublish(topic: sns.ITopic): void {
    if (this.topics.has(topic)) return;
    this.topics.add(topic);
    topic.grantPublish(this.role);
    if (topic.masterKey) {
      acknowledgeWildcards(this.role, { actions: ['kms:GenerateDataKey*'] }, 'CDK\'s Topic.grantPublish on an encrypted topic: publishing needs '
        + 'kms:GenerateDataKey* and kms:Decrypt on the topic\'s key (as the Amazon SNS documentation on encrypted topics specifies), granted on that key only.');
    }
    this.deadLetterAlarm.addAlarmAction(new cw_actions.SnsAction(topic));
  }

  /** The custom resource that checks a deployment and registers its rollout, served by this function. */
  public deploymentResource(scope: Construct, id: string, spec: DeploymentSpec): CustomResource {
    return this.servedResource(scope, id, 'Custom::SageMakerRolloutDeployment', Stack.of(scope).toJsonString(spec));
  }

  /** A custom resource served by this function, created only once its permissions are in place. */
  private servedResource(scope: Construct, id: string, resourceType: string, spec: string): CustomResource {
    const resource = new CustomResource(scope, id, {
      serviceToken: this.function.functionArn,
      resourceType,
      properties: { Spec: spec },
    });
    resource.node.addDependency(this.role);
    return resource;
  }

  /** The state table, once an endpoint is checked after deployments or has a candidate. */
  public get table(): dynamodb.ITable | undefined {
    return this.stateTable;
  }

  /**
   * Adds the endpoint to the stack's revert guard: one custom resource, run before any endpoint of
   * the stack is updated, that refuses a deployment which would put a reverted model back. Make
   * the endpoint depend on the returned resource. One per stack, not per endpoint, so that the
   * 60-endpoint stack stays within CloudFormation's 500 resources.
   */
  public guardReverts(entry: RevertGuardEntry): CustomResource {
    if (!this.revertGuard) {
      const entries: RevertGuardEntry[] = [];
      const stack = Stack.of(this);
      const resource = this.servedResource(this, 'RevertGuard', REVERT_GUARD_RESOURCE_TYPE,
        Lazy.string({ produce: () => stack.toJsonString({ endpoints: entries }) }));
      this.revertGuard = { resource, entries };
    }
    this.revertGuard.entries.push(entry);
    return this.revertGuard.resource;
  }

  private addEndpointArn(statement: iam.PolicyStatement, seen: Set<string>, arn: string): void {
    if (seen.has(arn)) return;
    if (seen.size === 0) this.role.addToPrincipalPolicy(statement);
    seen.add(arn);
    statement.addResources(arn);
  }

  private addAlarms(alarms: cloudwatch.IAlarm[], names: string[]): void {
    if (this.alarmStatement.resources.length === 0) {
      this.role.addToPrincipalPolicy(this.alarmStatement);
      // Every alarm this library makes in the stack starts with the prefix: one resource covers them all.
      const ownAlarms = ownAlarmsArn(this.alarmNamePrefix);
      this.alarmStatement.addResources(ownAlarms);
      acknowledgeWildcards(this.role, { resources: [ownAlarms] }, 'Read-only cloudwatch:DescribeAlarms on the alarms this library creates in the '
        + 'stack, which all start with the stack\'s alarm name prefix: one resource for any number of endpoints keeps the policy under its size limit.');
    }
    alarms.forEach((alarm, i) => {
      if (!isOwnAlarmName(names[i], this.alarmNamePrefix) && !this.alarmStatement.resources.includes(alarm.alarmArn)) {
        this.alarmStatement.addResources(alarm.alarmArn);
      }
    });
  }

  private ensureRuntime(): NonNullable<RolloutController['runtime']> {
    if (this.runtime) return this.runtime;
    const table = this.ensureTable();

    const target = () => new targets.LambdaFunction(this.function, {
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 8,
      maxEventAge: Duration.hours(2),
    });
    const alarmRule = new events.Rule(this, 'AlarmRule', {
      description: 'cdk-sagemaker-rollout: a canary or shadow alarm went to ALARM',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        // Only this stack's account and region (the handler checks them again).
        account: [Stack.of(this).account],
        region: [Stack.of(this).region],
        detail: {
          alarmName: events.Match.prefix(this.alarmNamePrefix),
          state: { value: ['ALARM'] },
        },
      },
      targets: [target()],
    });
    new events.Rule(this, 'EndpointRule', {
      description: 'cdk-sagemaker-rollout: an endpoint is back in service (re-apply standing rollbacks and current steps)',
      eventPattern: {
        source: ['aws.sagemaker'],
        detailType: ['SageMaker Endpoint State Change'],
        account: [Stack.of(this).account],
        region: [Stack.of(this).region],
        detail: { EndpointStatus: ['IN_SERVICE'] },
      },
      targets: [target()],
    });

    this.allowAnnouncing();
    this.runtime = { table, alarmRule };
    return this.runtime;
  }

  /** Every announcement goes to the account's default bus: PutEvents there only, granted once. */
  private allowAnnouncing(): void {
    if (this.announces) return;
    this.announces = true;
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'AnnounceOnDefaultBus',
      actions: ['events:PutEvents'],
      resources: [compactArn('events', 'event-bus/default')],
    }));
  }

  /** Reconciling a canary and guarding scaling need the live config's variants (shadows are never reconciled). */
  private allowReadingEndpointConfigs(): void {
    if (this.readsEndpointConfigs) return;
    this.readsEndpointConfigs = true;
    // Reconciling needs the live config's variants; config names are generated by CloudFormation
    // and change with every deployment, so they cannot be listed here. Read-only.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadEndpointConfigs',
      actions: ['sagemaker:DescribeEndpointConfig'],
      resources: [compactArn('sagemaker', 'endpoint-config/*')],
    }));
    acknowledgeWildcards(this.role, { resources: [compactArn('sagemaker', 'endpoint-config/*')] }, 'Read-only sagemaker:DescribeEndpointConfig: '
      + 'reconciling a canary and guarding its scaling need the variants of the config the endpoint runs, and CloudFormation generates a new config '
      + 'name on every deployment, so the names cannot be listed.');
  }

  /**
   * Lets the function take an endpoint's scaling off and put it back around an instance-type
   * change, and narrow a rolled-back canary: Application Auto Scaling on the account's scalable
   * targets (their ARNs carry an id Application Auto Scaling assigns at registration, so they cannot
   * be named in advance; its Describe actions take no resource at all, see
   * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsapplicationautoscaling.html),
   * and the library's step-scaling alarms, which are pointed at their re-created policies.
   */
  public allowScaling(endpoint: { readonly endpointArn: string; readonly alarmNamePrefix: string }): void {
    if (!this.guardedArns.has(endpoint.endpointArn)) this.addEndpointArn(this.describeStatement, this.verifiedArns, endpoint.endpointArn);
    this.allowReadingEndpointConfigs();
    if (this.scalingAllowed) return;
    this.scalingAllowed = true;
    const scalableTargets = compactArn('application-autoscaling', 'scalable-target/*');
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadScaling',
      actions: ['application-autoscaling:DescribeScalableTargets', 'application-autoscaling:DescribeScalingPolicies', 'application-autoscaling:DescribeScheduledActions'],
      resources: ['*'],
    }));
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'GuardScaling',
      actions: ['application-autoscaling:RegisterScalableTarget', 'application-autoscaling:DeregisterScalableTarget',
        'application-autoscaling:PutScalingPolicy', 'application-autoscaling:PutScheduledAction',
        'application-autoscaling:DeleteScalingPolicy', 'application-autoscaling:DeleteScheduledAction'],
      resources: [scalableTargets],
    }));
    const alarms = compactArn('cloudwatch', `alarm:${endpoint.alarmNamePrefix}*`);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'RepointStepScalingAlarms',
      actions: ['cloudwatch:DescribeAlarms', 'cloudwatch:PutMetricAlarm'],
      resources: [alarms],
    }));
    acknowledgeWildcards(this.role, { resources: ['*', scalableTargets, alarms] }, 'Application Auto Scaling: its Describe actions accept no resource '
      + 'but "*" (read-only); scalable-target ARNs end in an id assigned at registration, so the targets of this stack\'s endpoints cannot be named '
      + 'in advance; and the step-scaling alarms this library names with the stack\'s scaling prefix, which it points at their policies again '
      + 'after an instance-type change re-created them.');
  }

  /** The custom resource that takes an endpoint's scaling off before SageMaker's update, served by this function. */
  public scalingGuardResource(scope: Construct, id: string, spec: ScalingGuardSpec): CustomResource {
    return this.servedResource(scope, id, 'Custom::SageMakerRolloutScalingGuard', Stack.of(scope).toJsonString(spec));
  }

  /**
   * The stack's state table: rollouts, deployments and reverts. Every stack with a
   * checked endpoint gets it, blue/green-only ones too: on demand, so it costs nothing when idle.
   */
  private ensureTable(): dynamodb.Table {
    if (this.stateTable) return this.stateTable;
    const table = new dynamodb.Table(this, 'State', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // The table holds the audit trail of every rollout decision: keep it when the stack goes.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledgeFindings(table, { nag: ['HIPAA.Security-DynamoDBInBackupPlan', 'NIST.800.53.R5-DynamoDBInBackupPlan'] }, 'Point-in-time recovery is on '
      + '(restore to any second of the last 35 days) and the table is kept when the stack is deleted; putting it in an AWS Backup plan is an '
      + 'account-level policy (usually a tag-based backup selection), not something a library should create per stack.');
    acknowledgeFindings(table, { checkov: ['CKV_AWS_119'] }, 'Encrypted at rest with the AWS managed key for DynamoDB. The table holds rollout state '
      + 'and decisions (endpoint and variant names, weights, times, reasons), no inference data: a customer managed key would add a key policy and a '
      + 'monthly cost per stack and protect nothing more.');
    table.grantReadWriteData(this.role);
    this.function.addEnvironment('TABLE_NAME', table.tableName);
    this.stateTable = table;
    return table;
  }

  private ensureSchedule(): void {
    if (this.schedule) return;
    this.schedule = new events.Rule(this, 'PromotionSchedule', {
      description: 'cdk-sagemaker-rollout: advance canary promotions when their step is due',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
    });
    // The number of requests a candidate served during a step; GetMetricData has no resource-level permissions.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadInvocations',
      actions: ['cloudwatch:GetMetricData'],
      resources: ['*'],
    }));
    acknowledgeWildcards(this.role, { resources: ['*'] }, 'cloudwatch:GetMetricData has no resource-level permissions (AWS accepts only "*"); '
      + 'it reads metrics only, to count the requests a canary served during a promotion step.');
  }
}

/**
 * `<stack name>-rollout-`: every alarm this library creates in a stack starts with it, so one rule
 * and one IAM resource cover them all (an event pattern is limited to 2048 characters). Long stack
 * names are shortened with a hash to keep alarm names well under 255 characters.
 */
export function alarmNamePrefixOf(stack: Stack): string {
  let name = Token.isUnresolved(stack.stackName) ? stack.node.id : stack.stackName;
  if (name.length > 40) {
    let hash = 0;
    for (const ch of name) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
    name = `${name.slice(0, 31)}-${hash.toString(16).padStart(8, '0')}`;
  }
  return `${name}-rollout-`;
}

/**
 * Whether an alarm was made by this library in this stack: its name starts with the stack's prefix
 * (the prefix is literal even when the endpoint name after it is a token).
 */
export function isOwnAlarmName(name: string, alarmNamePrefix: string): boolean {
  return name.startsWith(alarmNamePrefix);
}

/** One ARN for every alarm whose name starts with the prefix. */
export function ownAlarmsArn(alarmNamePrefix: string): string {
  return compactArn('cloudwatch', `alarm:${alarmNamePrefix}*`);
}
