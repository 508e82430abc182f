import {
  DeleteEndpointConfigCommand, DeleteModelCommand, DescribeEndpointCommand, DescribeEndpointConfigCommand, ListEndpointConfigsCommand,
  ListEndpointsCommand, ListModelsCommand, ListTagsCommand, SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { MANAGED_BY_TAG_KEY } from './spec';

export interface Leftover {
  readonly kind: 'endpoint-config' | 'model';
  readonly name: string;
  readonly arn: string;
  readonly createdAt?: Date;
}

export interface LeftoverReport {
  /** Configs and models this library created that no endpoint uses, old enough to be safe to delete. */
  readonly unused: Leftover[];
  /** Unused, but younger than `minAgeMs`: possibly part of a deployment in progress. Left alone. */
  readonly tooRecent: Leftover[];
  /** Configs some endpoint runs or is moving to, and their models. */
  readonly inUse: { readonly configs: string[]; readonly models: string[] };
}

/**
 * Endpoint configs and models kept by `UpdateReplacePolicy: Retain` (or left by deleted stacks)
 * that nothing uses any more. "Used" means: an endpoint runs the config or is being updated to it,
 * `keep` names it for an endpoint (a revert could need it), or a used config names the model. Only resources tagged by this library are considered, and
 * recent ones are left alone, since a deployment creates its new config before it updates the endpoint.
 */
export async function findLeftovers(sagemaker: SageMakerClient, options: {
  now: Date; minAgeMs: number;
  /** Configs an endpoint may still need although it does not run them (a revert's target): kept, with their models. */
  keep?: (endpoint: { name: string; arn: string; configName: string }) => Promise<string[]>;
}): Promise<LeftoverReport> {
  const usedConfigs = new Set<string>();
  for (const endpoint of await listAll(sagemaker, 'endpoints')) {
    const out = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpoint.name }));
    if (out.EndpointConfigName) usedConfigs.add(out.EndpointConfigName);
    if (out.PendingDeploymentSummary?.EndpointConfigName) usedConfigs.add(out.PendingDeploymentSummary.EndpointConfigName);
    for (const config of await options.keep?.({ name: endpoint.name, arn: endpoint.arn, configName: out.EndpointConfigName ?? '' }) ?? []) usedConfigs.add(config);
  }
  const usedModels = new Set<string>();
  for (const config of usedConfigs) {
    try {
      const out = await sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: config }));
      for (const v of [...(out.ProductionVariants ?? []), ...(out.ShadowProductionVariants ?? [])]) if (v.ModelName) usedModels.add(v.ModelName);
    } catch {
      // A config deleted under a live endpoint (by hand): nothing to protect through it.
    }
  }

  const unused: Leftover[] = [];
  const tooRecent: Leftover[] = [];
  const consider = async (item: Leftover, used: Set<string>) => {
    if (used.has(item.name) || !(await isManaged(sagemaker, item.arn))) return;
    const age = item.createdAt ? options.now.getTime() - item.createdAt.getTime() : Infinity;
    (age < options.minAgeMs ? tooRecent : unused).push(item);
  };
  for (const config of await listAll(sagemaker, 'endpoint-configs')) await consider({ kind: 'endpoint-config', ...config }, usedConfigs);
  for (const model of await listAll(sagemaker, 'models')) await consider({ kind: 'model', ...model }, usedModels);
  return { unused, tooRecent, inUse: { configs: [...usedConfigs].sort(), models: [...usedModels].sort() } };
}

/** Deletes leftovers: configs first, so that no config is left naming a deleted model. */
export async function deleteLeftovers(sagemaker: SageMakerClient, leftovers: Leftover[]): Promise<void> {
  const ordered = [...leftovers.filter((l) => l.kind === 'endpoint-config'), ...leftovers.filter((l) => l.kind === 'model')];
  for (const item of ordered) {
    if (item.kind === 'endpoint-config') await sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: item.name }));
    else await sagemaker.send(new DeleteModelCommand({ ModelName: item.name }));
  }
}

async function isManaged(sagemaker: SageMakerClient, arn: string): Promise<boolean> {
  const out = await sagemaker.send(new ListTagsCommand({ ResourceArn: arn }));
  return (out.Tags ?? []).some((t) => t.Key === MANAGED_BY_TAG_KEY);
}

async function listAll(sagemaker: SageMakerClient, what: 'endpoints' | 'endpoint-configs' | 'models'): Promise<{ name: string; arn: string; createdAt?: Date }[]> {
  const items: { name: string; arn: string; createdAt?: Date }[] = [];
  let next: string | undefined;
  do {
    if (what === 'endpoints') {
      const out = await sagemaker.send(new ListEndpointsCommand({ NextToken: next, MaxResults: 100 }));
      items.push(...(out.Endpoints ?? []).map((e) => ({ name: e.EndpointName!, arn: e.EndpointArn!, createdAt: e.CreationTime })));
      next = out.NextToken;
    } else if (what === 'endpoint-configs') {
      const out = await sagemaker.send(new ListEndpointConfigsCommand({ NextToken: next, MaxResults: 100 }));
      items.push(...(out.EndpointConfigs ?? []).map((c) => ({ name: c.EndpointConfigName!, arn: c.EndpointConfigArn!, createdAt: c.CreationTime })));
      next = out.NextToken;
    } else {
      const out = await sagemaker.send(new ListModelsCommand({ NextToken: next, MaxResults: 100 }));
      items.push(...(out.Models ?? []).map((m) => ({ name: m.ModelName!, arn: m.ModelArn!, createdAt: m.CreationTime })));
      next = out.NextToken;
    }
  } while (next);
  return items;
}
