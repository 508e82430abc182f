import { candidatePercentOf } from '../runtime/decide';
import { liveWeights } from '../runtime/endpoint-ops';
import { endpointTargets } from '../runtime/scaling';
import { alarmStates } from '../runtime/signals';
import { RegisteredRollout } from '../runtime/spec';
import { desiredPercent, HistoryEntry, RolloutState } from '../runtime/state';
import { CliClients, ManagedEndpoint } from './context';
import { num, table } from './format';
import { gatherRevertStatus, renderRevertStatus, RevertStatus } from './revert-command';

/** Everything `status` shows, as `--json` prints it. */
export interface StatusReport {
  readonly endpoint: {
    readonly name: string;
    readonly status: string;
    readonly config: string;
    readonly failureReason?: string;
    readonly managed: boolean;
    readonly pendingDeployment?: { readonly config: string; readonly variants: { readonly name: string; readonly statuses: string[] }[] };
    readonly variants: {
      readonly name: string;
      readonly currentWeight?: number;
      readonly desiredWeight?: number;
      readonly currentInstanceCount?: number;
      readonly desiredInstanceCount?: number;
      readonly trafficPercent: number;
      /** Application Auto Scaling's range, when the variant scales; what was suspended (a rolled-back canary). */
      readonly scaling?: { readonly minCapacity: number; readonly maxCapacity: number; readonly suspended: string[] };
    }[];
    /** Why the scaling column is empty, when Application Auto Scaling could not be read. */
    readonly scalingUnknown?: string;
  };
  readonly alarms: { readonly name: string; readonly state: string; readonly role: 'rollback' | 'shadow' }[];
  readonly rollout?: {
    readonly kind: 'canary' | 'shadow';
    readonly status: RolloutState['status'];
    readonly candidateVariant: string;
    readonly candidateModel: string;
    /** The percent the controller holds the candidate at (0 when rolled back). */
    readonly holdsPercent: number;
    /** What the endpoint shows now. */
    readonly livePercent: number;
    readonly step?: { readonly index: number; readonly of: number; readonly percent: number; readonly startedAt: string; readonly nextStepAt?: string; readonly minInvocations: number; readonly approvalAt?: number };
    readonly pending?: RolloutState['pending'];
    readonly rollback?: RolloutState['rollback'];
    readonly pausedBy?: string;
  };
  readonly history: HistoryEntry[];
  /** The standing revert (live config against the template's) and the last recorded deployment. */
  readonly deployments?: RevertStatus;
}

export async function gatherStatus(clients: CliClients, target: ManagedEndpoint, historyLimit: number): Promise<StatusReport> {
  const e = target.endpoint;
  const spec: RegisteredRollout | undefined = target.store ? await target.store.getSpec(e.name) : undefined;
  const state = spec && target.store ? (await target.store.getState(e.name))?.value : undefined;
  const weights = liveWeights(e);
  const total = Object.values(weights).reduce((a, b) => a + b, 0);

  const rollbackNames = spec?.kind === 'canary' ? [...new Set([...spec.alarmNames, ...e.rollbackAlarmNames])] : e.rollbackAlarmNames;
  const shadowNames = spec?.kind === 'shadow' ? spec.alarmNames : [];
  const states = await alarmStates(clients.cloudwatch, [...rollbackNames, ...shadowNames]);

  let targets: Awaited<ReturnType<typeof endpointTargets>> = {};
  let scalingUnknown: string | undefined;
  try {
    targets = await endpointTargets(clients.autoscaling, e.name, e.variants.map((v) => v.name));
  } catch (error) {
    scalingUnknown = `could not read Application Auto Scaling: ${(error as Error).message}`;
  }

  let rollout: StatusReport['rollout'];
  if (spec && state) {
    const promotion = spec.promotion;
    rollout = {
      kind: spec.kind,
      status: state.status,
      candidateVariant: spec.candidateVariant,
      candidateModel: spec.candidateModelName,
      holdsPercent: desiredPercent(state),
      livePercent: candidatePercentOf(weights, spec),
      step: promotion ? {
        index: state.stepIndex + 1,
        of: promotion.steps.length,
        percent: state.percent,
        startedAt: state.stepStartedAt,
        nextStepAt: state.status === 'active' && state.stepIndex + 1 < promotion.steps.length
          ? new Date(Date.parse(state.stepStartedAt) + promotion.intervalSeconds * 1000).toISOString() : undefined,
        minInvocations: promotion.minInvocations,
        approvalAt: promotion.approvalAt,
      } : undefined,
      pending: state.pending,
      rollback: state.rollback,
      pausedBy: state.pausedBy,
    };
  }

  return {
    endpoint: {
      name: e.name,
      status: e.status,
      config: e.configName,
      failureReason: e.failureReason,
      managed: target.managed,
      pendingDeployment: e.pendingConfigName ? { config: e.pendingConfigName, variants: e.pendingVariants ?? [] } : undefined,
      variants: e.variants.map((v) => ({
        name: v.name,
        currentWeight: v.currentWeight,
        desiredWeight: v.desiredWeight,
        currentInstanceCount: v.currentInstanceCount,
        desiredInstanceCount: v.desiredInstanceCount,
        trafficPercent: total > 0 ? Math.round((weights[v.name] / total) * 10000) / 100 : 0,
        scaling: targets[v.name] ? {
          minCapacity: targets[v.name].MinCapacity ?? 0,
          maxCapacity: targets[v.name].MaxCapacity ?? 0,
          suspended: Object.entries(targets[v.name].SuspendedState ?? {}).filter(([, on]) => on === true).map(([what]) => what),
        } : undefined,
      })),
      scalingUnknown,
    },
    alarms: [
      ...rollbackNames.map((name) => ({ name, state: states[name], role: 'rollback' as const })),
      ...shadowNames.map((name) => ({ name, state: states[name], role: 'shadow' as const })),
    ],
    rollout,
    history: target.store ? await target.store.history(e.name, historyLimit) : [],
    deployments: await gatherRevertStatus(clients, target),
  };
}

export function renderStatus(r: StatusReport): string {
  const out: string[] = [];
  const e = r.endpoint;
  out.push(`Endpoint  ${e.name}: ${e.status}, config ${e.config}${e.managed ? '' : '  (not managed by cdk-sagemaker-rollout)'}`);
  if (e.failureReason) out.push(`          failure reason: ${e.failureReason}`);
  out.push(`Rollout   ${describeRollout(r)}`);
  out.push(...renderRevertStatus(r.deployments));
  out.push('');
  out.push(table(['VARIANT', 'WEIGHT (current/desired)', 'INSTANCES (current/desired)', 'SCALING (min-max)', 'TRAFFIC'],
    e.variants.map((v) => [v.name, `${num(v.currentWeight)} / ${num(v.desiredWeight)}`, `${num(v.currentInstanceCount)} / ${num(v.desiredInstanceCount)}`,
      scalingCell(v.scaling, e.scalingUnknown), `${v.trafficPercent}%`])));
  if (e.pendingDeployment) {
    out.push('');
    out.push(`Deployment in progress to config ${e.pendingDeployment.config}:`);
    for (const v of e.pendingDeployment.variants) out.push(`  ${v.name}: ${v.statuses.join('; ') || 'no status yet'}`);
  }
  out.push('');
  out.push(r.alarms.length > 0
    ? table(['ALARM', 'STATE', 'ROLE'], r.alarms.map((a) => [a.name, a.state, a.role === 'rollback' ? 'rolls back' : 'notifies']))
    : 'No rollback alarms.');
  if (r.history.length > 0) {
    out.push('');
    out.push('History (newest first):');
    out.push(table(['TIME', 'ACTION', 'BY', 'TRAFFIC', 'REASON'], r.history.map((h) => [
      h.at, h.action, h.by,
      trafficChange(h.percentBefore, h.percentAfter),
      h.reason,
    ])));
  }
  return out.join('\n');
}

function scalingCell(scaling: StatusReport['endpoint']['variants'][number]['scaling'], unknown: string | undefined): string {
  if (!scaling) return unknown ? 'unknown' : 'none';
  return `${scaling.minCapacity}-${scaling.maxCapacity}${scaling.suspended.length > 0 ? ` (suspended: ${scaling.suspended.join(', ')})` : ''}`;
}

function trafficChange(before: number | undefined, after: number | undefined): string {
  if (after === undefined) return '';
  return before === undefined || before === after ? `${num(after)}%` : `${num(before)}% -> ${num(after)}%`;
}

function describeRollout(r: StatusReport): string {
  const o = r.rollout;
  if (!o) return r.endpoint.managed ? 'no canary or shadow (blue/green through SageMaker\'s guardrails)' : 'none';
  if (o.kind === 'shadow') return `shadow ${o.candidateVariant} (model ${o.candidateModel}) gets a copy of requests; its answers are captured, never returned`;
  const parts = [`canary ${o.candidateVariant} (model ${o.candidateModel}) ${o.status}`];
  if (o.status === 'rolled-back' && o.rollback) {
    parts.push(`at 0% since ${o.rollback.at} by ${o.rollback.alarmName ?? o.rollback.by}: ${o.rollback.reason}`);
    parts.push('run "resume" to try it again from its first step');
  } else {
    parts.push(`at ${o.holdsPercent}%`);
    if (o.step) parts.push(`step ${o.step.index} of ${o.step.of}`);
    if (o.step?.nextStepAt) parts.push(`next step at ${o.step.nextStepAt} with at least ${o.step.minInvocations} requests and all alarms OK`);
    if (o.status === 'awaiting-approval') parts.push('waiting for "promote"');
    if (o.status === 'paused') parts.push(`paused by ${o.pausedBy ?? 'an operator'}; "resume" to go on`);
    if (o.status === 'promoted') parts.push('make the candidate the production model in code');
  }
  if (o.livePercent !== o.holdsPercent) parts.push(`(the endpoint shows ${o.livePercent}%: the controller will set it back)`);
  if (o.pending) parts.push(`change to ${o.pending.targetPercent}% in flight since ${o.pending.since}`);
  return parts.join('; ');
}
