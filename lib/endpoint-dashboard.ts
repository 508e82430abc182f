import { Duration, Fn, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import * as metrics from './metrics';
import { withConstructPath } from './private/validation';

/** Properties of an `EndpointDashboard`. */
export interface EndpointDashboardProps {
  readonly endpointName: string;
  readonly productionVariantName: string;
  /** @default - production alone */
  readonly candidateVariantName?: string;
  /** 'candidate' (canary) or 'shadow'. @default - none */
  readonly candidateKind?: string;
  /**
   * ARNs of the alarms whose state the dashboard shows: tokens, or strings in `Fn::Sub` syntax
   * (`arn:${AWS::Partition}:cloudwatch:...`).
   */
  readonly alarmArns: string[];
}

/** One line of a graph: a metric, or a math expression over metrics drawn hidden beside it. */
interface Line {
  readonly metric: cloudwatch.IMetric;
  readonly label: string;
}

/**
 * One dashboard per endpoint: production beside the candidate on the same axes (requests, error
 * rate, latency p50/p99), the alarms' states and the traffic share each variant actually got.
 *
 * The metrics come from the metrics module, like the alarms'; the body is written here as JSON in
 * CloudWatch's dashboard format, with the region, partition and account as `Fn::Sub` variables.
 * (CDK's graph widgets build the same JSON through a token per value, which made synthesis of
 * stacks with dozens of endpoints measurably slower: BENCHMARKS.md.)
 */
export class EndpointDashboard extends Construct {
  public readonly dashboard: cloudwatch.CfnDashboard;

  constructor(scope: Construct, id: string, props: EndpointDashboardProps) {
    super(scope, id);
    try {
      // Names only known at deploy time become Fn::Sub variables of the body.
      const variables: Record<string, string> = {};
      const literal = (value: string, name: string) => {
        if (!Token.isUnresolved(value)) return value;
        variables[name] = value;
        return `\${${name}}`;
      };
      const endpointName = literal(props.endpointName, 'EndpointName');
      const variants = [literal(props.productionVariantName, 'ProductionVariant'), ...(props.candidateVariantName ? [literal(props.candidateVariantName, 'CandidateVariant')] : [])];
      const target = (variantName: string) => ({ endpointName, variantName });
      const label = (variantName: string) => (variantName === variants[0] ? `production (${variantName})` : `${props.candidateKind ?? 'candidate'} (${variantName})`);
      const period = Duration.minutes(1);
      const latency = (stat: string): Line[] => variants.map((v) => ({
        label: `${label(v)} ${stat}`,
        // ModelLatency is in microseconds; graphs read better in milliseconds.
        metric: new cloudwatch.MathExpression({
          expression: `${metrics.metricId('latency', v)} / 1000`,
          usingMetrics: { [metrics.metricId('latency', v)]: metrics.modelLatency(target(v), { statistic: stat, period }) },
          period,
        }),
      }));

      const graphs: [string, string, Line[]][] = [
        ['Requests per minute', 'requests', variants.map((v) => ({ label: label(v), metric: metrics.invocations(target(v), { period }) }))],
        ['5xx error rate (%)', '%', variants.map((v) => ({ label: label(v), metric: metrics.errorRatePercent(target(v), { period }) }))],
        ['Model error rate (%)', '%', variants.map((v) => ({ label: label(v), metric: metrics.errorRatePercent(target(v), { errorKind: metrics.ErrorKind.MODEL, period }) }))],
        ['Model latency p50 (ms)', 'ms', latency('p50')],
        ['Model latency p99 (ms)', 'ms', latency('p99')],
        ['Observed traffic share (%)', '%', trafficShare(props, variants, target, label, period)],
      ];
      const widgets: unknown[] = graphs.map(([title, unit, lines], i) => ({
        type: 'metric', width: 8, height: 6, x: (i % 3) * 8, y: Math.floor(i / 3) * 6,
        properties: { view: 'timeSeries', title, region: '${AWS::Region}', metrics: renderLines(lines), yAxis: { left: { label: unit, showUnits: false, min: 0 } }, period: 60 },
      }));

      const alarmArns = props.alarmArns.map((arn, i) => literal(arn, `Alarm${i}`));
      if (alarmArns.length > 0) {
        widgets.push({ type: 'alarm', width: 24, height: 3, x: 0, y: 12, properties: { title: 'Rollback and shadow alarms', alarms: alarmArns } });
      }
      const body = JSON.stringify({ start: '-PT3H', widgets });
      this.dashboard = new cloudwatch.CfnDashboard(this, 'Resource', {
        dashboardBody: Object.keys(variables).length > 0 ? Fn.sub(body, variables) : Fn.sub(body),
      });
    } catch (error) {
      throw withConstructPath(this, error);
    }
  }
}

/**
 * Lines as CloudWatch's dashboard JSON draws them: a metric as one entry; an expression as one entry
 * followed by its inputs, drawn hidden (each input once per graph: ids are unique within a graph).
 */
function renderLines(lines: Line[]): unknown[][] {
  const drawn = new Set<string>();
  return lines.flatMap((line) => {
    const config = line.metric.toMetricConfig();
    if (config.metricStat) return [renderStat(config.metricStat, { label: line.label })];
    const math = config.mathExpression!;
    const inputs = Object.entries(math.usingMetrics).filter(([id]) => !drawn.has(id));
    inputs.forEach(([id]) => drawn.add(id));
    return [
      [{ label: line.label, expression: math.expression, period: math.period }],
      ...inputs.map(([id, m]) => renderStat(m.toMetricConfig().metricStat!, { id, visible: false })),
    ];
  });
}

function renderStat(stat: cloudwatch.MetricStatConfig, options: Record<string, unknown>): unknown[] {
  const dimensions = (stat.dimensions ?? []).flatMap((d) => [d.name, d.value]);
  return [stat.namespace, stat.metricName, ...dimensions, { ...options, period: stat.period.toSeconds(), stat: stat.statistic }];
}

/**
 * Each variant's share of the requests it actually served: the weights in effect, measured rather
 * than configured, so a rollback shows as the candidate's share falling to 0. A shadow's share is
 * its copy of production's traffic.
 */
function trafficShare(props: EndpointDashboardProps, variants: string[], target: (v: string) => metrics.VariantMetricTarget,
  label: (v: string) => string, period: Duration): Line[] {
  const prod = metrics.invocations(target(variants[0]), { period });
  if (variants.length === 1) {
    return [{ label: label(variants[0]), metric: new cloudwatch.MathExpression({ expression: '100 * prod / prod', usingMetrics: { prod }, period }) }];
  }
  const usingMetrics = { prod, cand: metrics.invocations(target(variants[1]), { period }) };
  const shadow = props.candidateKind === 'shadow';
  return [
    { label: label(variants[0]), metric: new cloudwatch.MathExpression({ expression: shadow ? '100 * prod / prod' : '100 * prod / (prod + cand)', usingMetrics, period }) },
    { label: label(variants[1]), metric: new cloudwatch.MathExpression({ expression: shadow ? '100 * cand / prod' : '100 * cand / (prod + cand)', usingMetrics: { cand: usingMetrics.cand, prod }, period }) },
  ];
}
