import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/**
 * SageMaker endpoint metrics, named after the official metrics (https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html).
 *
 * The single source of metric truth: the rollback alarms, the dashboard and the endpoint's metric
 * helpers all build their metrics here, so that a unit or statistic is right in one place.
 */

/** Namespace of the invocation metrics of real-time endpoints. */
export const SAGEMAKER_NAMESPACE = 'AWS/SageMaker';

/** Which fleet of a variant a metric describes. */
export interface VariantMetricTarget {
  /** The endpoint's name (the `EndpointName` dimension keeps the case the endpoint was created with). */
  readonly endpointName: string;
  /** The variant's name. */
  readonly variantName: string;
  /**
   * Only the fleet of this endpoint config. SageMaker publishes invocation metrics with an
   * `EndpointConfigName` dimension during and after guardrail deployments, which lets an alarm
   * watch the new fleet alone (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html).
   * @default - every fleet of the variant
   */
  readonly endpointConfigName?: string;
}

/** A metric of `AWS/SageMaker` for one variant. */
export function variantMetric(target: VariantMetricTarget, metricName: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
  const dimensionsMap: Record<string, string> = { EndpointName: target.endpointName, VariantName: target.variantName };
  if (target.endpointConfigName !== undefined) dimensionsMap.EndpointConfigName = target.endpointConfigName;
  return new cloudwatch.Metric({
    namespace: SAGEMAKER_NAMESPACE,
    metricName,
    dimensionsMap,
    period: Duration.minutes(1),
    ...options,
  });
}

/** Requests served (`Invocations`, Sum). */
export function invocations(target: VariantMetricTarget, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
  return variantMetric(target, 'Invocations', { statistic: cloudwatch.Stats.SUM, ...options });
}

/** Requests answered with a 5xx (`Invocation5XXErrors`, Sum: the metric is 1 per failed request, 0 otherwise). */
export function invocation5xxErrors(target: VariantMetricTarget, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
  return variantMetric(target, 'Invocation5XXErrors', { statistic: cloudwatch.Stats.SUM, ...options });
}

/** Requests answered with a 4xx (`Invocation4XXErrors`, Sum). */
export function invocation4xxErrors(target: VariantMetricTarget, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
  return variantMetric(target, 'Invocation4XXErrors', { statistic: cloudwatch.Stats.SUM, ...options });
}

/** Requests the model failed (`InvocationModelErrors`, Sum). A failed model answer also counts as a 4xx or 5xx. */
export function modelErrors(target: VariantMetricTarget, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
  return variantMetric(target, 'InvocationModelErrors', { statistic: cloudwatch.Stats.SUM, ...options });
}

/** Time the container took to answer (`ModelLatency`), in **microseconds**; p99 unless told otherwise. */
export function modelLatency(target: VariantMetricTarget, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
  return variantMetric(target, 'ModelLatency', { statistic: cloudwatch.Stats.p(99), ...options });
}

/** SageMaker's own overhead (`OverheadLatency`), in **microseconds**; p99 unless told otherwise. */
export function overheadLatency(target: VariantMetricTarget, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
  return variantMetric(target, 'OverheadLatency', { statistic: cloudwatch.Stats.p(99), ...options });
}

/** Which errors an error rate counts. */
export enum ErrorKind {
  /** `Invocation5XXErrors`: requests SageMaker answered with a 5xx. */
  SERVER_5XX = 'Invocation5XXErrors',
  /** `Invocation4XXErrors`: requests answered with a 4xx (often the caller's fault). */
  CLIENT_4XX = 'Invocation4XXErrors',
  /** `InvocationModelErrors`: requests the model container failed. */
  MODEL = 'InvocationModelErrors',
}

/** Options of an error-rate metric. */
export interface ErrorRateOptions {
  /** Which errors to count. @default ErrorKind.SERVER_5XX */
  readonly errorKind?: ErrorKind;
  /** Aggregation period. @default 1 minute */
  readonly period?: Duration;
  /**
   * Low-traffic guard: a period with fewer requests than this reports 0 %, unless it also has
   * at least `minErrors` errors. So a handful of requests cannot look like a high rate, while a
   * model that fails every request still shows.
   * @default 0 (no guard)
   */
  readonly minInvocations?: number;
  /** See `minInvocations`. @default 0 */
  readonly minErrors?: number;
  /** Label on graphs. @default - "<errors> rate (%)" */
  readonly label?: string;
}

/**
 * The share of requests that failed, in percent (0-100), as metric math on Sums:
 * `IF(invocations >= minInvocations OR errors >= minErrors, 100 * errors / invocations, 0)`.
 * Periods with no requests have no data point at all (never a breach).
 */
export function errorRatePercent(target: VariantMetricTarget, options: ErrorRateOptions = {}): cloudwatch.MathExpression {
  const kind = options.errorKind ?? ErrorKind.SERVER_5XX;
  const period = options.period ?? Duration.minutes(1);
  const minInvocations = options.minInvocations ?? 0;
  const minErrors = options.minErrors ?? 0;
  // Ids are per variant, so that rates of several variants can share one graph.
  const inv = metricId('invocations', target.variantName);
  const err = metricId('errors', target.variantName);
  return new cloudwatch.MathExpression({
    expression: `IF(${inv} >= ${minInvocations} OR ${err} >= ${minErrors}, 100 * ${err} / ${inv}, 0)`,
    usingMetrics: {
      [inv]: invocations(target, { period }),
      [err]: variantMetric(target, kind, { statistic: cloudwatch.Stats.SUM, period }),
    },
    period,
    label: options.label ?? `${kind} rate (%)`,
  });
}

/** A metric-math id for a variant's metric: lower-case letters, digits and underscores. */
export function metricId(base: string, variantName: string): string {
  return `${base}_${variantName.toLowerCase().replace(/[^a-z0-9]/g, '_')}`;
}

/**
 * Model latency in the same unit for every graph and alarm threshold: **microseconds**, as
 * SageMaker publishes it; `maxLatency` durations are converted with `latencyThresholdMicros`.
 */
export function latencyThresholdMicros(maxLatency: Duration): number {
  return maxLatency.toMilliseconds() * 1000;
}
