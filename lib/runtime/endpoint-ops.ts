import {
  DescribeEndpointCommand, DescribeEndpointConfigCommand, ListTagsCommand, SageMakerClient,
  UpdateEndpointWeightsAndCapacitiesCommand,
} from '@aws-sdk/client-sagemaker';
import { errorMessage, errorName } from './retry';

/** What the controller reads of a live endpoint. */
export interface EndpointView {
  readonly name: string;
  readonly arn: string;
  /** DescribeEndpoint's status: InService, Updating, Creating, ... */
  readonly status: string;
  readonly configName: string;
  readonly failureReason?: string;
  readonly variants: VariantView[];
  /** The config being deployed, while an update is in progress, and its variants' statuses. */
  readonly pendingConfigName?: string;
  readonly pendingVariants?: { readonly name: string; readonly statuses: string[] }[];
  readonly lastModified?: Date;
  /** Alarms of the last deployment's AutoRollbackConfiguration. */
  readonly rollbackAlarmNames: string[];
  /** Where data capture writes, when it is on. */
  readonly captureDestination?: string;
}

export interface VariantView {
  readonly name: string;
  readonly currentWeight?: number;
  readonly desiredWeight?: number;
  readonly currentInstanceCount?: number;
  readonly desiredInstanceCount?: number;
}

/** An endpoint that does not exist (SageMaker answers ValidationException "Could not find endpoint"). */
export class EndpointNotFoundError extends Error {
  constructor(public readonly endpointName: string) {
    super(`endpoint "${endpointName}" does not exist in this account and region`);
    this.name = 'EndpointNotFoundError';
  }
}

export function isNotFound(error: unknown): boolean {
  return errorName(error) === 'ValidationException' && /could not find|does not exist|not found/i.test(errorMessage(error));
}

export async function describeEndpoint(sagemaker: SageMakerClient, endpointName: string): Promise<EndpointView> {
  try {
    const out = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
    return {
      name: out.EndpointName ?? endpointName,
      arn: out.EndpointArn ?? '',
      status: out.EndpointStatus ?? 'Unknown',
      configName: out.EndpointConfigName ?? '',
      failureReason: out.FailureReason || undefined,
      variants: (out.ProductionVariants ?? []).map((v) => ({
        name: v.VariantName ?? '',
        currentWeight: v.CurrentWeight,
        desiredWeight: v.DesiredWeight,
        currentInstanceCount: v.CurrentInstanceCount,
        desiredInstanceCount: v.DesiredInstanceCount,
      })),
      pendingConfigName: out.PendingDeploymentSummary?.EndpointConfigName,
      pendingVariants: out.PendingDeploymentSummary?.ProductionVariants?.map((v) => ({
        name: v.VariantName ?? '',
        statuses: (v.VariantStatus ?? []).map((st) => `${st.Status}${st.StatusMessage ? `: ${st.StatusMessage}` : ''}`),
      })),
      lastModified: out.LastModifiedTime,
      rollbackAlarmNames: (out.LastDeploymentConfig?.AutoRollbackConfiguration?.Alarms ?? []).map((a) => a.AlarmName ?? '').filter((n) => n !== ''),
      captureDestination: out.DataCaptureConfig?.DestinationS3Uri,
    };
  } catch (error) {
    if (isNotFound(error)) throw new EndpointNotFoundError(endpointName);
    throw error;
  }
}

/**
 * The weights the endpoint is moving to (desired, else current). A variant without weight fields
 * counts as 0: SageMaker leaves them out of a variant at weight 0 in some answers.
 */
export function liveWeights(endpoint: EndpointView): Record<string, number> {
  const weights: Record<string, number> = {};
  for (const v of endpoint.variants) weights[v.name] = v.desiredWeight ?? v.currentWeight ?? 0;
  return weights;
}

/** The model of a variant in an endpoint config; undefined when the config or variant is gone. */
export async function modelOfVariant(sagemaker: SageMakerClient, configName: string, variantName: string): Promise<string | undefined> {
  try {
    const out = await sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: configName }));
    return [...(out.ProductionVariants ?? []), ...(out.ShadowProductionVariants ?? [])].find((v) => v.VariantName === variantName)?.ModelName;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Sets the weights of the endpoint's variants, and nothing else: instance counts are left out of
 * the call, so SageMaker keeps them (it changes the capacity of at most one variant per call anyway).
 */
export async function setWeights(sagemaker: SageMakerClient, endpointName: string, weights: { variantName: string; weight: number }[]): Promise<void> {
  await sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({
    EndpointName: endpointName,
    DesiredWeightsAndCapacities: weights.map((w) => ({ VariantName: w.variantName, DesiredWeight: w.weight })),
  }));
}

/** The endpoint's tags. */
export async function endpointTags(sagemaker: SageMakerClient, endpointArn: string): Promise<Record<string, string>> {
  const tags: Record<string, string> = {};
  let next: string | undefined;
  do {
    const out = await sagemaker.send(new ListTagsCommand({ ResourceArn: endpointArn, NextToken: next }));
    for (const t of out.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
    next = out.NextToken;
  } while (next);
  return tags;
}
