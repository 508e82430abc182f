import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import * as metrics from './metrics';

/** Properties of an `EndpointDashboard`. */
export interface EndpointDashboardProps {
  readonly endpointName: string;
  readonly productionVariantName: string;
  /** @default - production alone */
  readonly candidateVariantName?: string;
  /** 'candidate' (canary) or 'shadow'. @default - none */
  readonly candidateKind?: string;
  /** Alarms whose state the dashboard shows. */
  readonly alarms: cloudwatch.IAlarm[];
}

/**
 * One dashboard per endpoint: production beside the candidate on the same axes (requests, error
 * rate, latency p50/p99), the alarms' states and the traffic share each variant actually got.
 */
export class EndpointDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: EndpointDashboardProps) {
    super(scope, id);
    const variants = [props.productionVariantName, ...(props.candidateVariantName ? [props.candidateVariantName] : [])];
    const target = (variantName: string) => ({ endpointName: props.endpointName, variantName });
    const label = (variantName: string) => (variantName === props.productionVariantName ? `production (${variantName})` : `${props.candidateKind ?? 'candidate'} (${variantName})`);
    const period = Duration.minutes(1);

    const graph = (title: string, lines: cloudwatch.IMetric[], unit: string) => new cloudwatch.GraphWidget({
      title,
      left: lines,
      leftYAxis: { label: unit, showUnits: false, min: 0 },
      width: 8,
      height: 6,
      period,
    });

    const latency = (stat: string) => variants.map((v) => new cloudwatch.MathExpression({
      // ModelLatency is in microseconds; graphs read better in milliseconds.
      expression: `${metrics.metricId('latency', v)} / 1000`,
      usingMetrics: { [metrics.metricId('latency', v)]: metrics.modelLatency(target(v), { statistic: stat, period }) },
      label: `${label(v)} ${stat}`,
      period,
    }));

    const widgets: cloudwatch.IWidget[][] = [
      [
        graph('Requests per minute', variants.map((v) => metrics.invocations(target(v), { label: label(v), period })), 'requests'),
        graph('5xx error rate (%)', variants.map((v) => metrics.errorRatePercent(target(v), { label: label(v), period })), '%'),
        graph('Model error rate (%)', variants.map((v) => metrics.errorRatePercent(target(v), { errorKind: metrics.ErrorKind.MODEL, label: label(v), period })), '%'),
      ],
      [
        graph('Model latency p50 (ms)', latency('p50'), 'ms'),
        graph('Model latency p99 (ms)', latency('p99'), 'ms'),
        graph('Observed traffic share (%)', this.trafficShare(props, variants, target, label, period), '%'),
      ],
    ];
    if (props.alarms.length > 0) {
      widgets.push([new cloudwatch.AlarmStatusWidget({ title: 'Rollback and shadow alarms', alarms: props.alarms, width: 24 })]);
    }
    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', { widgets, defaultInterval: Duration.hours(3) });
  }

  /**
   * Each variant's share of the requests it actually served: the weights in effect, measured rather
   * than configured, so a rollback shows as the candidate's share falling to 0. A shadow's share is
   * its copy of production's traffic.
   */
  private trafficShare(props: EndpointDashboardProps, variants: string[], target: (v: string) => metrics.VariantMetricTarget,
    label: (v: string) => string, period: Duration): cloudwatch.IMetric[] {
    const prodMetric = metrics.invocations(target(variants[0]), { period });
    if (variants.length === 1) {
      return [new cloudwatch.MathExpression({ expression: '100 * prod / prod', usingMetrics: { prod: prodMetric }, label: label(variants[0]), period })];
    }
    const usingMetrics = { prod: prodMetric, cand: metrics.invocations(target(variants[1]), { period }) };
    const shadow = props.candidateKind === 'shadow';
    return [
      new cloudwatch.MathExpression({
        expression: shadow ? '100 * prod / prod' : '100 * prod / (prod + cand)',
        usingMetrics, label: label(variants[0]), period,
      }),
      new cloudwatch.MathExpression({
        expression: shadow ? '100 * cand / prod' : '100 * cand / (prod + cand)',
        usingMetrics, label: label(variants[1]), period,
      }),
    ];
  }
}
