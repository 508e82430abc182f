import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SNSClient } from '@aws-sdk/client-sns';
import { announce } from './announce';
import { CustomResourceEvent, isCustomResourceEvent, refuseResponseUrl, respond, ResponseSender } from './custom-resource';
import { checkDeployment, DeploymentCheckError, variantSetChange } from './deployment-check';
import { DeploymentLog } from './deployment-log';
import { onRevertGuard, recordDeployment, standingRevertExplains } from './revert-guard';
import { Deadlines, onAlarm, reconcile, register, RolloutDeps, step, unregister } from './rollout';
import { guardScaling } from './scaling';
import { DeploymentSpec, REVERT_GUARD_RESOURCE_TYPE, ROLLOUT_EVENT_SOURCE, ScalingGuardSpec } from './spec';
import { StateStore } from './state-store';

/**
 * The controller's Lambda entry point: one function per stack for every event it gets.
 *  - CloudFormation custom resource (after each deployment): check the live config, register the rollout;
 *  - `CloudWatch Alarm State Change` to ALARM: roll a canary back, or announce a shadow alarm;
 *  - `SageMaker Endpoint State Change` to IN_SERVICE: re-apply a standing rollback or the current step;
 *  - the one-minute schedule: take promotion steps that are due.
 * The handler only parses events and picks deadlines; the work is in rollout.ts.
 */

/** How long after the alarm a rollback keeps retrying a busy or throttled endpoint before it gives up. */
export const ROLLBACK_DEADLINE_MS = 30 * 60 * 1000;
/** Time kept in reserve at the end of an invocation to write state and answer. */
const RESERVE_MS = 30_000;
/** How long a deployment check polls an endpoint that is still changing. */
const CHECK_BUDGET_MS = 8 * 60 * 1000;

export interface HandlerDeps extends Omit<RolloutDeps, 'store'> {
  /** Absent in stacks without a table (no endpoint with a candidate or a post-deploy check). */
  readonly store?: StateStore;
  readonly autoscaling: ApplicationAutoScalingClient;
  /**
   * The stack's account and region: EventBridge events from anywhere else are ignored (the rules
   * match them too, but a rule's target can be reached by events put on the bus by other means).
   * @default - not checked
   */
  readonly account?: string;
  readonly region?: string;
  /** How the answer to CloudFormation is sent (tests send it to a loopback server). @default - HTTPS PUT */
  readonly send?: ResponseSender;
  /** Deployments and reverts, in the same table. */
  readonly records?: DeploymentLog;
}

/** CloudFormation's resource type of the scaling guard (lib/scaling/variant-scaling.ts). */
export const SCALING_GUARD_TYPE = 'Custom::SageMakerRolloutScalingGuard';

export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

interface EventBridgeEvent {
  readonly source: string;
  readonly 'detail-type': string;
  readonly account?: string;
  readonly region?: string;
  readonly time?: string;
  readonly detail?: Record<string, any>;
}

/** An event the controller refuses before any AWS call: it is logged, and Lambda's retries end in the dead-letter queue. */
export class MalformedEventError extends Error {}

/** What an event is, for messages: `null`, `a number (42)`, `an array`... */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value} (${JSON.stringify(value) ?? String(value)})`;
}

export function makeHandler(deps: () => HandlerDeps) {
  return async (event: unknown, context?: LambdaContext): Promise<unknown> => {
    const d = deps();
    const remainingMs = context?.getRemainingTimeInMillis() ?? 10 * 60 * 1000;
    const attempt = new Date(d.now().getTime() + remainingMs - RESERVE_MS);
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      throw new MalformedEventError(`the controller takes EventBridge and CloudFormation events, got ${describeValue(event)}: nothing was changed`);
    }
    if (isCustomResourceEvent(event) && event.ResourceType === SCALING_GUARD_TYPE) return onScalingGuard(d, event);
    if (isCustomResourceEvent(event) && event.ResourceType === REVERT_GUARD_RESOURCE_TYPE) return onRevertGuard(d, event);
    if (isCustomResourceEvent(event)) return onDeployment(d, event, Math.min(CHECK_BUDGET_MS, remainingMs - RESERVE_MS), attempt);

    const e = event as EventBridgeEvent;
    if (e.source === 'aws.cloudwatch' || e.source === 'aws.sagemaker') {
      const foreign = foreignOrigin(d, e);
      if (foreign) {
        d.log(foreign);
        return foreign;
      }
    }
    const store = d.store;
    if (!store) throw new Error(`the controller has no state table but got a ${e['detail-type']} event`);
    const rd: RolloutDeps = { ...d, store };
    if (e.source === 'aws.cloudwatch' && e['detail-type'] === 'CloudWatch Alarm State Change') {
      const alarmName: unknown = e.detail?.alarmName;
      if (typeof alarmName !== 'string' || alarmName === '') {
        throw new MalformedEventError(`alarm event with detail.alarmName ${describeValue(alarmName)}, not an alarm name: nothing was changed`);
      }
      if (e.detail?.state?.value !== 'ALARM') return `alarm ${alarmName} is ${e.detail?.state?.value}: nothing to do`;
      const eventTime = e.time === undefined ? d.now().getTime() : Date.parse(String(e.time));
      if (Number.isNaN(eventTime)) {
        // The rollback deadline counts from the alarm's time: without one it would be invalid, and the
        // retries would run until the function times out, without a word.
        throw new MalformedEventError(`alarm event for ${alarmName} has a time that is not a date (${describeValue(e.time)}): nothing was changed`);
      }
      const result = await onAlarm(rd, alarmName, String(e.detail?.state?.reason ?? 'no reason given'), { final: new Date(eventTime + ROLLBACK_DEADLINE_MS), attempt });
      d.log(result);
      return result;
    }
    if (e.source === 'aws.sagemaker' && e['detail-type'] === 'SageMaker Endpoint State Change') {
      const endpointName: unknown = e.detail?.EndpointName;
      if (typeof endpointName !== 'string' || endpointName === '') {
        throw new MalformedEventError(`endpoint event with detail.EndpointName ${describeValue(endpointName)}, not an endpoint name: nothing was changed`);
      }
      const result = await reconcile(rd, endpointName, `the endpoint came back in service (config ${e.detail?.EndpointConfigName ?? 'unknown'})`, { final: attempt });
      d.log(`reconcile ${endpointName}: ${result}`);
      return result;
    }
    if (e.source === 'aws.events' && e['detail-type'] === 'Scheduled Event') {
      return tick(rd, { final: attempt });
    }
    throw new Error(`unexpected event: source ${e.source}, detail-type ${e['detail-type']}`);
  };
}

/**
 * Why an AWS event is not this stack's, or undefined when it is: from another account or region
 * (or with neither), it is ignored without any SageMaker call.
 */
function foreignOrigin(deps: HandlerDeps, e: EventBridgeEvent): string | undefined {
  if (deps.account !== undefined && e.account !== deps.account) {
    return `ignored a ${e['detail-type']} event from account ${e.account ?? '(none)'}: this controller serves account ${deps.account} only`;
  }
  if (deps.region !== undefined && e.region !== deps.region) {
    return `ignored a ${e['detail-type']} event from region ${e.region ?? '(none)'}: this controller serves region ${deps.region} only`;
  }
  return undefined;
}

/** Visits every registered canary. One endpoint's failure does not stop the others; it is raised at the end. */
async function tick(deps: RolloutDeps, deadlines: Deadlines): Promise<unknown> {
  const results = [];
  const failures: string[] = [];
  for (const endpointName of await deps.store.registeredEndpoints()) {
    try {
      const result = await step(deps, endpointName, deadlines);
      deps.log(`step ${endpointName}: ${result.decision}`, { reason: result.reason });
      results.push(result);
    } catch (error) {
      deps.log(`step ${endpointName} failed`, { error: (error as Error).message });
      failures.push(`${endpointName}: ${(error as Error).message}`);
    }
  }
  if (failures.length > 0) throw new Error(`scheduled steps failed for ${failures.join('; ')}`);
  return results;
}

async function onDeployment(deps: HandlerDeps, event: CustomResourceEvent, checkBudgetMs: number, attempt: Date): Promise<void> {
  // Before any work: an event CloudFormation cannot have sent changes nothing and gets no answer.
  const refused = refuseResponseUrl(event.ResponseURL);
  if (refused) {
    throw new MalformedEventError(`custom resource event with a ResponseURL that CloudFormation cannot have sent (${refused}): nothing was changed and no answer was sent`);
  }
  const spec = JSON.parse(String(event.ResourceProperties.Spec)) as DeploymentSpec;
  const old = event.OldResourceProperties?.Spec ? JSON.parse(String(event.OldResourceProperties.Spec)) as DeploymentSpec : undefined;
  const physicalResourceId = event.RequestType === 'Delete' ? (event.PhysicalResourceId ?? spec.endpointName) : spec.endpointName;
  try {
    if (event.RequestType === 'Delete') {
      // Never fail a delete: the stack must be able to go.
      if (spec.rollout && deps.store) {
        await unregister({ ...deps, store: deps.store }, spec.endpointName, 'the endpoint or its rollout was removed from the stack')
          .catch((error) => deps.log('unregistering failed', { error: (error as Error).message }));
      }
      await respond(event, { Status: 'SUCCESS', PhysicalResourceId: physicalResourceId }, deps.send);
      return;
    }
    const change = variantSetChange(old, spec);
    if (change) deps.log(`deployment of ${spec.endpointConfigName} changes the variants of ${spec.endpointName} (${change}); SageMaker's guardrails may not guard such an update`);
    if (spec.scaling) {
      // After SageMaker's update: registers again what the scaling guard took off (lib/runtime/scaling.ts).
      // Before the check, so that a deployment SageMaker rolled back, or a stack rollback, finds
      // scaling the way the endpoint's next update needs it.
      const actions = await guardScaling(deps, spec.scaling, old?.scaling);
      if (actions.length > 0) deps.log('scaling after the deployment', { endpointName: spec.endpointName, actions });
    }
    if (spec.verify) await verify(deps, spec, checkBudgetMs, event.StackId);
    if (spec.rollout) {
      if (!deps.store) throw new Error('the controller has no state table: the stack was synthesized without a canary or shadow');
      await register({ ...deps, store: deps.store }, spec.endpointName, spec.rollout, spec.endpointConfigName, { final: attempt });
    } else if (old?.rollout && deps.store) {
      await unregister({ ...deps, store: deps.store }, spec.endpointName, 'the candidate was removed from the endpoint');
    }
    await respond(event, { Status: 'SUCCESS', PhysicalResourceId: physicalResourceId, Data: { EndpointConfigName: spec.endpointConfigName } }, deps.send);
  } catch (error) {
    deps.log('deployment check failed', { error: (error as Error).message });
    await respond(event, { Status: 'FAILED', PhysicalResourceId: physicalResourceId, Reason: (error as Error).message }, deps.send);
  }
}

/**
 * Before SageMaker's update: takes scaling off the variants whose instance type changes or that go
 * away; during a stack rollback (run after the endpoint went back), puts it back. A delete does
 * nothing: CloudFormation deletes the scalable targets themselves.
 */
async function onScalingGuard(deps: HandlerDeps, event: CustomResourceEvent): Promise<void> {
  const spec = JSON.parse(String(event.ResourceProperties.Spec)) as ScalingGuardSpec;
  const old = event.OldResourceProperties?.Spec ? JSON.parse(String(event.OldResourceProperties.Spec)) as ScalingGuardSpec : undefined;
  const physicalResourceId = event.PhysicalResourceId ?? `${spec.endpointName}-scaling-guard`;
  if (event.RequestType === 'Delete') {
    await respond(event, { Status: 'SUCCESS', PhysicalResourceId: physicalResourceId }, deps.send);
    return;
  }
  try {
    const actions = await guardScaling(deps, spec, event.RequestType === 'Update' ? old : undefined);
    deps.log('scaling guard', { endpointName: spec.endpointName, actions });
    await respond(event, { Status: 'SUCCESS', PhysicalResourceId: physicalResourceId }, deps.send);
  } catch (error) {
    deps.log('scaling guard failed', { error: (error as Error).message });
    await respond(event, { Status: 'FAILED', PhysicalResourceId: physicalResourceId, Reason: (error as Error).message }, deps.send);
  }
}

async function verify(deps: HandlerDeps, spec: DeploymentSpec, budgetMs: number, stackId: string): Promise<void> {
  let endpoint;
  try {
    endpoint = await checkDeployment(deps, spec, budgetMs);
  } catch (error) {
    // A revert made with the CLI explains an endpoint that runs another config (issue 16).
    if (error instanceof DeploymentCheckError && error.endpoint && await standingRevertExplains(deps, spec, error.endpoint)) return;
    if (error instanceof DeploymentCheckError && error.endpoint && error.endpoint.configName !== spec.endpointConfigName) {
      await announce(deps, {
        type: 'Deployment Rolled Back By SageMaker', endpointName: spec.endpointName, topicArn: spec.topicArn,
        summary: `deployment of ${spec.endpointConfigName} rolled back by SageMaker`,
        message: error.message,
        detail: { expectedConfig: spec.endpointConfigName, liveConfig: error.endpoint.configName, firingAlarms: error.firingAlarms, failureReason: error.endpoint.failureReason ?? null },
      }).catch((e) => deps.log('announcing failed', { error: (e as Error).message }));
    }
    throw error;
  }
  await recordDeployment(deps, spec, endpoint, stackId);
}

/** Clients are created once per container and reused across invocations. */
const clients = {
  sagemaker: new SageMakerClient({}),
  cloudwatch: new CloudWatchClient({}),
  dynamo: new DynamoDBClient({}),
  sns: new SNSClient({}),
  events: new EventBridgeClient({}),
  autoscaling: new ApplicationAutoScalingClient({}),
};

export const handler = makeHandler(() => ({
  sagemaker: clients.sagemaker,
  cloudwatch: clients.cloudwatch,
  sns: clients.sns,
  events: clients.events,
  autoscaling: clients.autoscaling,
  store: process.env.TABLE_NAME ? new StateStore(clients.dynamo, process.env.TABLE_NAME) : undefined,
  records: process.env.TABLE_NAME ? new DeploymentLog(clients.dynamo, process.env.TABLE_NAME) : undefined,
  account: process.env.STACK_ACCOUNT,
  region: process.env.AWS_REGION,
  eventSource: process.env.EVENT_SOURCE ?? ROLLOUT_EVENT_SOURCE,
  now: () => new Date(),
  sleep: (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)),
  log: (message: string, data?: Record<string, unknown>) => console.log(JSON.stringify({ message, ...data })),
}));
