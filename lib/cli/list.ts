import { DescribeEndpointCommand, ListEndpointsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { endpointTags, isNotFound } from '../runtime/endpoint-ops';
import { MANAGED_BY_TAG_KEY, STATE_TABLE_TAG } from '../runtime/spec';
import { desiredPercent, RolloutState } from '../runtime/state';
import { StateStore } from '../runtime/state-store';
import { CliClients } from './context';
import { table } from './format';

/** One endpoint this library manages, as `list --json` prints it. */
export interface ListedEndpoint {
  readonly name: string;
  /** DescribeEndpoint's status: InService, Updating, ... */
  readonly status: string;
  /**
   * `canary` or `shadow` while a candidate is registered; otherwise how SageMaker applies the next
   * deployment: `blue/green`, or `rolling` when the last deployment config says so.
   */
  readonly strategy: 'canary' | 'shadow' | 'blue/green' | 'rolling';
  /** The stack's state table, for endpoints with a candidate. */
  readonly stateTable?: string;
  /** The candidate's rollout, when there is one. */
  readonly rollout?: {
    readonly status: RolloutState['status'];
    readonly candidateVariant: string;
    readonly candidateModel: string;
    /** Canary: the percent of traffic the controller holds the candidate at. Shadow: the share of requests copied. */
    readonly percent: number;
    /** 1-based step of the promotion schedule, and how many steps it has. */
    readonly step?: { readonly index: number; readonly of: number };
    readonly since: string;
  };
}

/** Everything `list` shows. */
export interface ListReport {
  readonly endpoints: ListedEndpoint[];
  /** Endpoints in the account and region that this library does not manage. */
  readonly unmanaged: number;
}

/** At most this many endpoints are read at once: a large account must not trip SageMaker's throttling. */
const CONCURRENCY = 5;

/**
 * Every endpoint of the account and region that carries this library's managed-by tag, with its
 * rollout read from the state table its state-table tag names. One ListTags per endpoint, and for
 * managed ones a DescribeEndpoint and, with a candidate, two reads of the table.
 */
export async function listManagedEndpoints(clients: CliClients): Promise<ListReport> {
  const summaries = await allEndpoints(clients.sagemaker);
  const listed: (ListedEndpoint | undefined)[] = [];
  for (let i = 0; i < summaries.length; i += CONCURRENCY) {
    listed.push(...await Promise.all(summaries.slice(i, i + CONCURRENCY).map((s) => describeManaged(clients, s))));
  }
  const endpoints = listed.filter((e): e is ListedEndpoint => e !== undefined).sort((a, b) => a.name.localeCompare(b.name));
  return { endpoints, unmanaged: summaries.length - endpoints.length };
}

async function allEndpoints(sagemaker: SageMakerClient): Promise<{ name: string; arn: string }[]> {
  const out: { name: string; arn: string }[] = [];
  let next: string | undefined;
  do {
    const page = await sagemaker.send(new ListEndpointsCommand({ NextToken: next, MaxResults: 100 }));
    for (const e of page.Endpoints ?? []) if (e.EndpointName && e.EndpointArn) out.push({ name: e.EndpointName, arn: e.EndpointArn });
    next = page.NextToken;
  } while (next);
  return out;
}

async function describeManaged(clients: CliClients, summary: { name: string; arn: string }): Promise<ListedEndpoint | undefined> {
  try {
    const tags = await endpointTags(clients.sagemaker, summary.arn);
    if (tags[MANAGED_BY_TAG_KEY] === undefined) return undefined;
    const described = await clients.sagemaker.send(new DescribeEndpointCommand({ EndpointName: summary.name }));
    const tableName = tags[STATE_TABLE_TAG];
    const store = tableName ? new StateStore(clients.dynamo, tableName) : undefined;
    const spec = store ? await store.getSpec(summary.name) : undefined;
    const state = spec && store ? (await store.getState(summary.name))?.value : undefined;
    const base = {
      name: summary.name,
      status: described.EndpointStatus ?? 'Unknown',
      stateTable: tableName,
    };
    if (!spec || !state) {
      return { ...base, strategy: described.LastDeploymentConfig?.RollingUpdatePolicy ? 'rolling' : 'blue/green' };
    }
    return {
      ...base,
      strategy: spec.kind,
      rollout: {
        status: state.status,
        candidateVariant: spec.candidateVariant,
        candidateModel: spec.candidateModelName,
        percent: spec.kind === 'canary' ? desiredPercent(state) : spec.initialPercent,
        step: spec.kind === 'canary' && spec.promotion ? { index: state.stepIndex + 1, of: spec.promotion.steps.length } : undefined,
        since: state.updatedAt,
      },
    };
  } catch (error) {
    // Deleted between the list and the look: it is no longer there to list.
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The list for people: one line per endpoint. */
export function renderList(report: ListReport): string {
  if (report.endpoints.length === 0) {
    return `No endpoints managed by cdk-sagemaker-rollout in this account and region${report.unmanaged > 0 ? ` (${report.unmanaged} other endpoint${report.unmanaged === 1 ? '' : 's'})` : ''}.`;
  }
  const rows = report.endpoints.map((e) => [e.name, e.strategy, e.status, describeRollout(e), e.rollout?.since ?? '-']);
  const lines = [table(['ENDPOINT', 'STRATEGY', 'STATUS', 'ROLLOUT', 'SINCE'], rows)];
  if (report.unmanaged > 0) lines.push('', `${report.unmanaged} other endpoint${report.unmanaged === 1 ? '' : 's'} in this account and region ${report.unmanaged === 1 ? 'is' : 'are'} not managed by cdk-sagemaker-rollout.`);
  return lines.join('\n');
}

function describeRollout(e: ListedEndpoint): string {
  const r = e.rollout;
  if (!r) return '-';
  if (e.strategy === 'shadow') return `${r.candidateVariant} (model ${r.candidateModel}) gets a copy of ${r.percent}% of requests`;
  // A step means something while the rollout moves; after a rollback or at 100 % it does not.
  const step = r.step && (r.status === 'active' || r.status === 'paused' || r.status === 'awaiting-approval') ? `, step ${r.step.index} of ${r.step.of}` : '';
  return `${r.candidateVariant} (model ${r.candidateModel}) ${r.status} at ${r.percent}%${step}`;
}
