import { DescribeEndpointConfigCommand, DescribeModelCommand, UpdateEndpointCommand } from '@aws-sdk/client-sagemaker';
import { announce } from '../runtime/announce';
import { alarmsFiring } from '../runtime/decide';
import { DeploymentLog } from '../runtime/deployment-log';
import { configsARevertNeeds, DeploymentRecord, describeModels, RevertRecord, revertIdAt, revertTarget, who } from '../runtime/deployment-record';
import { describeEndpoint, endpointTags, isNotFound } from '../runtime/endpoint-ops';
import { alarmStates } from '../runtime/signals';
import { ROLLOUT_EVENT_SOURCE, STATE_TABLE_TAG, VariantModel } from '../runtime/spec';
import { CliClients, CliError, ExitCode, ManagedEndpoint } from './context';
import { actorOf, CallerIdentity } from './identity';

/**
 * `revert <endpoint>`: back to the previous recorded config of a blue/green endpoint, without a
 * deployment. The checks come first and change nothing; the revert is written to the state table
 * before SageMaker is asked (so the revert guard protects it from the first moment), and taken
 * back if SageMaker refuses.
 */

export interface RevertOptions {
  /** Reuse the endpoint's deployment guardrails (RetainDeploymentConfig) instead of all at once. */
  readonly guarded: boolean;
  readonly reason: string;
  readonly identity: CallerIdentity;
  readonly now: () => Date;
}

/** What `revert` did, as `--json` prints it. */
export interface RevertOutcome {
  readonly action: 'revert';
  readonly endpoint: string;
  readonly revertId: string;
  readonly mode: RevertRecord['mode'];
  readonly from: { readonly config: string; readonly models: VariantModel[] };
  readonly to: { readonly config: string; readonly models: VariantModel[]; readonly deployedAt: string };
  readonly by: string;
  readonly label?: string;
  /** Set when the announcement failed (the revert itself was made). */
  readonly announceError?: string;
}

const nothingChanged = 'nothing was changed';

/** The deployment log of a managed endpoint, or a clear refusal. */
export function deploymentLogOf(clients: CliClients, target: ManagedEndpoint): DeploymentLog {
  const name = target.endpoint.name;
  if (!target.managed) {
    throw new CliError(`endpoint "${name}" is not managed by cdk-sagemaker-rollout: ${nothingChanged}`, ExitCode.NOT_MANAGED);
  }
  if (!target.tableName) {
    throw new CliError(`endpoint "${name}" has no state table, so no deployment of it is recorded (it was deployed with an earlier version of `
      + `cdk-sagemaker-rollout, or with verifyDeployment: false): deploy it once with this version; ${nothingChanged}`, ExitCode.NOT_MANAGED);
  }
  return new DeploymentLog(clients.dynamo, target.tableName);
}

export async function revertEndpoint(clients: CliClients, target: ManagedEndpoint, options: RevertOptions): Promise<RevertOutcome> {
  const log = deploymentLogOf(clients, target);
  const e = target.endpoint;
  const name = e.name;
  const rollout = await target.store?.getSpec(name);
  if (rollout?.kind === 'canary' || e.variants.length > 1) {
    throw new CliError(`endpoint "${name}" has a canary (${e.variants.map((v) => v.name).join(', ')}): "revert" is for blue/green endpoints. `
      + `Send the canary's traffic back to production with "npx cdk-sagemaker-rollout rollback ${name}"; ${nothingChanged}`, ExitCode.REFUSED);
  }
  if (e.status !== 'InService') {
    throw new CliError(`endpoint "${name}" is ${e.status}: a revert needs it InService (an update in progress would be cut short); `
      + `try again when "status" shows InService; ${nothingChanged}`, ExitCode.BUSY);
  }

  const records = await log.recent(name);
  const decision = revertTarget(name, records, e.configName);
  if (decision.kind === 'refused') throw new CliError(`${decision.reason}; ${nothingChanged}`, ExitCode.REFUSED);
  const to = decision.target;
  const toModels = await existingConfigModels(clients, name, to);
  await requireModels(clients, name, to, toModels);
  if (options.guarded) await requireQuietAlarms(clients, name, e.rollbackAlarmNames, e.configName);

  const standing = await log.getRevert(name);
  // The newest deployment (not revert): what the stack's template deploys.
  const template = records.find((r) => !r.revertId) ?? decision.live;
  const now = options.now();
  const liveModels = decision.live.models;
  const record: RevertRecord = {
    id: revertIdAt(now),
    endpointName: name,
    at: now.toISOString(),
    by: options.identity.arn,
    label: options.identity.label,
    reason: options.reason,
    mode: options.guarded ? 'guarded' : 'all-at-once',
    fromConfig: e.configName,
    fromModels: liveModels,
    toConfig: to.configName,
    toModels,
    templateConfig: standing?.value.templateConfig ?? template.configName,
    templateModels: standing?.value.templateModels ?? template.models,
    revertedModels: [...new Set([
      ...(standing?.value.revertedModels ?? []),
      ...liveModels.map((m) => m.model).filter((m) => !toModels.some((t) => t.model === m)),
    ])].sort(),
  };
  const version = await log.putRevert(record, standing?.version);

  const sameVariants = sameNames(e.variants.map((v) => v.name), toModels.map((m) => m.variant));
  try {
    await clients.sagemaker.send(new UpdateEndpointCommand({
      EndpointName: name,
      EndpointConfigName: to.configName,
      // Keep the live instance counts: the fleet may have scaled since that config was deployed.
      RetainAllVariantProperties: sameVariants ? true : undefined,
      // Guarded: SageMaker reuses the endpoint's last deployment config (its traffic shift, bake and
      // rollback alarms). Otherwise none is given: SageMaker's default update, all traffic at once.
      RetainDeploymentConfig: options.guarded ? true : undefined,
    }));
  } catch (error) {
    // SageMaker refused: the endpoint was not changed, so neither is the record.
    if (standing) await log.putRevert(standing.value, version);
    else await log.deleteRevert(name, version);
    throw error;
  }

  // The revert joins the endpoint's history of live configs: the next revert goes further back.
  await log.record({ ...to, models: toModels, at: record.at, stack: decision.live.stack, topicArn: template.topicArn, revertId: record.id });
  const actor = actorOf(options.identity);
  const summary = `${e.configName} (${describeModels(liveModels)}) -> ${to.configName} (${describeModels(toModels)}), ${record.mode}`;
  await target.store?.appendHistory(name, { at: record.at, action: 'revert', by: actor, reason: `${record.id}: ${options.reason}; ${summary}` });
  let announceError: string | undefined;
  try {
    await announce({ events: clients.events, sns: clients.sns, eventSource: ROLLOUT_EVENT_SOURCE }, {
      type: 'Endpoint Reverted', endpointName: name, topicArn: template.topicArn,
      summary: `reverted to ${to.configName} by ${options.identity.label ?? options.identity.arn}`,
      message: revertMessage(record),
      detail: {
        revertId: record.id, mode: record.mode, reason: record.reason, by: record.by, label: record.label ?? null,
        fromConfig: record.fromConfig, fromModels: record.fromModels, toConfig: record.toConfig, toModels: record.toModels,
        templateConfig: record.templateConfig, time: record.at,
      },
    });
  } catch (error) {
    announceError = (error as Error).message;
  }
  return {
    action: 'revert', endpoint: name, revertId: record.id, mode: record.mode,
    from: { config: record.fromConfig, models: record.fromModels },
    to: { config: to.configName, models: toModels, deployedAt: to.at },
    by: record.by, label: record.label, announceError,
  };
}

/** What people read on the topic: what happened, and what to do next. */
function revertMessage(r: RevertRecord): string {
  return [
    `Endpoint ${r.endpointName} was reverted by ${who(r)} (${r.id}, ${r.mode}): from config ${r.fromConfig} (${describeModels(r.fromModels)}) `
      + `to the previous one, ${r.toConfig} (${describeModels(r.toModels)}). Reason: ${r.reason}.`,
    'The revert stands until the code changes: a deployment that would put the reverted model back is refused; a deployment of another model ends it.',
    `  npx cdk-sagemaker-rollout status ${r.endpointName}     (live config and model against the template's)`,
    `Next: fix the model and deploy it, or, to put the reverted model back on purpose, set acknowledgeRevert: '${r.id}' on the ModelEndpoint and deploy.`,
  ].join('\n');
}

/** The models of the config to go back to, as SageMaker has it now; refuses when the config is gone. */
async function existingConfigModels(clients: CliClients, name: string, to: DeploymentRecord): Promise<VariantModel[]> {
  try {
    const out = await clients.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: to.configName }));
    if ((out.ProductionVariants ?? []).length > 1) {
      throw new CliError(`the previous config of "${name}", ${to.configName}, has a canary (${(out.ProductionVariants ?? []).map((v) => v.VariantName).join(', ')}): `
        + `reverting to it would bring back a canary the stack's controller no longer guards; ${nothingChanged}`, ExitCode.REFUSED);
    }
    return [...(out.ProductionVariants ?? []), ...(out.ShadowProductionVariants ?? [])]
      .map((v) => ({ variant: v.VariantName ?? '', model: v.ModelName ?? '' }));
  } catch (error) {
    if (!isNotFound(error)) throw error;
    throw new CliError(`the previous config of "${name}", ${to.configName} (deployed at ${to.at}), no longer exists (deleted by hand, or by a cleanup `
      + `of an earlier version): there is nothing to revert to; ${nothingChanged}`, ExitCode.REFUSED);
  }
}

async function requireModels(clients: CliClients, name: string, to: DeploymentRecord, models: VariantModel[]): Promise<void> {
  const missing: string[] = [];
  for (const m of models) {
    try {
      await clients.sagemaker.send(new DescribeModelCommand({ ModelName: m.model }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
      missing.push(`${m.model} (variant ${m.variant})`);
    }
  }
  if (missing.length > 0) {
    throw new CliError(`the previous config of "${name}", ${to.configName}, runs model ${missing.join(', ')}, which no longer exists: `
      + `SageMaker could not start that fleet; ${nothingChanged}`, ExitCode.REFUSED);
  }
}

/**
 * A guarded revert bakes under the rollback alarms of the last deployment. For blue/green those
 * watch the fleet of the config being left (EndpointConfigName dimension): one already in ALARM
 * would make SageMaker roll the revert back onto the model you are leaving.
 */
async function requireQuietAlarms(clients: CliClients, name: string, alarmNames: string[], liveConfig: string): Promise<void> {
  if (alarmNames.length === 0) {
    throw new CliError(`endpoint "${name}" has no rollback alarms in its last deployment config, so --guarded has nothing to guard with: `
      + `revert without --guarded (all at once); ${nothingChanged}`, ExitCode.REFUSED);
  }
  const firing = alarmsFiring(await alarmStates(clients.cloudwatch, alarmNames));
  if (firing.length > 0) {
    throw new CliError(`--guarded reuses the endpoint's rollback alarms, and ${firing.join(', ')} is in ALARM: they watch the fleet of ${liveConfig}, `
      + `the one you are leaving, so SageMaker would roll the revert back. Revert without --guarded (all at once); ${nothingChanged}`, ExitCode.REFUSED);
  }
}

function sameNames(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((n, i) => n === [...b].sort()[i]);
}

export function renderRevert(o: RevertOutcome): string {
  return [
    `${o.endpoint}: reverting from ${o.from.config} (${describeModels(o.from.models)}) to ${o.to.config} (${describeModels(o.to.models)}, deployed ${o.to.deployedAt}), ${o.mode}.`,
    `Recorded as ${o.revertId} by ${o.label ? `${o.by} (as "${o.label}")` : o.by}. It stands until the code changes; "status ${o.endpoint}" shows it.`,
    o.announceError ? `warning: the revert was made, but announcing it failed: ${o.announceError}` : '',
  ].filter((l) => l !== '').join('\n');
}

/**
 * Polls until the endpoint runs `configName` and is InService, showing SageMaker's progress on
 * stderr. SageMaker rolling the revert back (a guarded revert whose alarm fired) is a failure.
 */
export async function waitForConfig(clients: CliClients, io: { now: () => Date; sleep: (ms: number) => Promise<void>; err: (t: string) => void },
  endpointName: string, configName: string, timeoutMs: number, pollMs: number): Promise<ExitCode> {
  const start = io.now().getTime();
  let seenUpdating = false;
  for (;;) {
    const e = await describeEndpoint(clients.sagemaker, endpointName);
    const elapsed = Math.round((io.now().getTime() - start) / 1000);
    if (e.status === 'InService' && e.configName === configName) {
      io.err(`waiting for ${endpointName}: InService on ${configName} (${elapsed} s)`);
      return ExitCode.OK;
    }
    if (e.status !== 'InService') seenUpdating = true;
    if (['Failed', 'UpdateRollbackFailed', 'OutOfService'].includes(e.status)) {
      io.err(`${endpointName} is ${e.status}${e.failureReason ? `: ${e.failureReason}` : ''}`);
      return ExitCode.FAILED;
    }
    if (e.status === 'InService' && seenUpdating) {
      io.err(`SageMaker rolled the revert of ${endpointName} back: it runs ${e.configName}${e.failureReason ? ` (${e.failureReason})` : ''}; check with "status ${endpointName}"`);
      return ExitCode.FAILED;
    }
    const progress = (e.pendingVariants ?? []).map((v) => `${v.name}: ${v.statuses.join('; ') || 'no status yet'}`).join(', ');
    io.err(`waiting for ${endpointName}: ${e.status}, to config ${e.pendingConfigName ?? configName}${progress ? ` (${progress})` : ''} (${elapsed} s)`);
    if (io.now().getTime() - start + pollMs > timeoutMs) {
      io.err(`gave up waiting after ${elapsed} s; the revert goes on without us: check with "status ${endpointName}"`);
      return ExitCode.WAIT_TIMED_OUT;
    }
    await io.sleep(pollMs);
  }
}

/** What `status` shows of reverts: the standing one, and the deployment the template last put live. */
export interface RevertStatus {
  readonly standing?: RevertRecord & { readonly liveConfig: string };
  readonly lastDeployment?: DeploymentRecord;
}

export async function gatherRevertStatus(clients: CliClients, target: ManagedEndpoint): Promise<RevertStatus | undefined> {
  if (!target.tableName) return undefined;
  const log = new DeploymentLog(clients.dynamo, target.tableName);
  const [lastDeployment] = await log.recent(target.endpoint.name, 1);
  const standing = (await log.getRevert(target.endpoint.name))?.value;
  return { lastDeployment, standing: standing ? { ...standing, liveConfig: target.endpoint.configName } : undefined };
}

export function renderRevertStatus(r: RevertStatus | undefined): string[] {
  const s = r?.standing;
  if (!s) {
    return r?.lastDeployment
      ? [`Deployed  ${r.lastDeployment.configName} (${describeModels(r.lastDeployment.models)}) went live at ${r.lastDeployment.at}, stack ${r.lastDeployment.stack}`]
      : [];
  }
  return [
    `Reverted  since ${s.at} by ${who(s)} (${s.id}, ${s.mode}): ${s.reason}`,
    `          live:     ${s.liveConfig} (${describeModels(s.liveConfig === s.toConfig ? s.toModels : [])})`,
    `          template: ${s.templateConfig} (${describeModels(s.templateModels)})`,
    `          a deployment that puts ${s.revertedModels.join(', ')} back is refused; change the model, or set acknowledgeRevert: '${s.id}'`,
  ];
}

/**
 * For `cleanup`: the configs a revert of this endpoint could need (the one it would go back to,
 * and the template's while a revert stands), read from the endpoint's state table. Endpoints not
 * made by this library, or without records, need none.
 */
export async function configsKeptForReverts(clients: CliClients, endpoint: { name: string; arn: string; configName: string }): Promise<string[]> {
  const tags = await endpointTags(clients.sagemaker, endpoint.arn);
  const tableName = tags[STATE_TABLE_TAG];
  if (!tableName) return [];
  const records = await new DeploymentLog(clients.dynamo, tableName).recent(endpoint.name);
  return configsARevertNeeds(endpoint.name, records, endpoint.configName);
}
