/**
 * A small evaluator of the CloudWatch metric math our alarms use, and of the alarms themselves,
 * for tests only (never shipped): alarms are judged by what they do on synthetic traffic, not by
 * their expression strings.
 *
 * What it models (from the CloudWatch docs, https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
 * and https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html):
 * - expressions: numbers, metric ids, + - * /, comparisons, AND, OR, NOT, IF(c, a, b), ABS(x);
 * - periods aligned to multiples of the period; an alarm evaluated every 10 s when its period is
 *   under a minute, every 60 s otherwise, on its last `EvaluationPeriods` datapoints, in ALARM when
 *   at least `DatapointsToAlarm` of them breach; `TreatMissingData` notBreaching / breaching.
 *
 * Assumptions, stated because the real service may differ (the real-account suite settles them):
 * - a datapoint is available the moment its period ends (no publishing delay);
 * - a metric with no datapoint makes every expression that reads it "no datapoint", and so does a
 *   division by zero;
 * - SageMaker publishes no datapoint for a variant in a period without requests.
 */

// ---------------------------------------------------------------- expressions

type Node =
  | { kind: 'num'; value: number }
  | { kind: 'id'; name: string }
  | { kind: 'unary'; op: string; arg: Node }
  | { kind: 'binary'; op: string; left: Node; right: Node }
  | { kind: 'call'; fn: string; args: Node[] };

function tokenize(expression: string): string[] {
  const tokens: string[] = [];
  const re = /\s*(>=|<=|==|!=|&&|\|\||[-+*/(),<>!]|\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*)/y;
  let at = 0;
  while (at < expression.length) {
    if (/^\s*$/.test(expression.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(expression);
    if (!m) throw new Error(`metric math: cannot read "${expression.slice(at)}" in "${expression}"`);
    tokens.push(m[1]);
    at = re.lastIndex;
  }
  return tokens;
}

/** Parses an expression of the subset above; throws on anything else, so an alarm we cannot judge fails its test. */
export function parse(expression: string): Node {
  const tokens = tokenize(expression);
  let i = 0;
  const peek = () => tokens[i];
  const take = (expected?: string) => {
    const t = tokens[i++];
    if (expected !== undefined && t?.toUpperCase() !== expected) throw new Error(`metric math: expected ${expected}, got ${t} in "${expression}"`);
    return t;
  };
  const binaryLevel = (ops: string[], next: () => Node) => (): Node => {
    let left = next();
    while (peek() !== undefined && ops.includes(peek().toUpperCase())) {
      const op = take().toUpperCase();
      left = { kind: 'binary', op: op === '&&' ? 'AND' : op === '||' ? 'OR' : op, left, right: next() };
    }
    return left;
  };
  const primary = (): Node => {
    const t = take();
    if (t === undefined) throw new Error(`metric math: unexpected end of "${expression}"`);
    if (t === '(') {
      const inner = or();
      take(')');
      return inner;
    }
    if (t === '-' || t === '!' || t.toUpperCase() === 'NOT') return { kind: 'unary', op: t === '-' ? '-' : 'NOT', arg: primary() };
    if (/^\d/.test(t)) return { kind: 'num', value: Number(t) };
    if (peek() === '(') {
      take('(');
      const args: Node[] = [];
      if (peek() !== ')') {
        args.push(or());
        while (peek() === ',') {
          take(',');
          args.push(or());
        }
      }
      take(')');
      return { kind: 'call', fn: t.toUpperCase(), args };
    }
    return { kind: 'id', name: t };
  };
  const product = binaryLevel(['*', '/'], primary);
  const sum = binaryLevel(['+', '-'], product);
  const comparison = binaryLevel(['>', '<', '>=', '<=', '==', '!='], sum);
  const and = binaryLevel(['AND', '&&'], comparison);
  const or: () => Node = binaryLevel(['OR', '||'], and);
  const tree = or();
  if (i !== tokens.length) throw new Error(`metric math: unexpected "${tokens[i]}" in "${expression}"`);
  return tree;
}

/** The value of an expression for one timestamp; undefined is "no datapoint". */
export function evaluate(node: Node, values: Record<string, number | undefined>): number | undefined {
  switch (node.kind) {
    case 'num': return node.value;
    case 'id':
      if (!(node.name in values)) throw new Error(`metric math: unknown id ${node.name}`);
      return values[node.name];
    case 'unary': {
      const v = evaluate(node.arg, values);
      if (v === undefined) return undefined;
      return node.op === '-' ? -v : (v === 0 ? 1 : 0);
    }
    case 'binary': {
      const a = evaluate(node.left, values);
      const b = evaluate(node.right, values);
      if (a === undefined || b === undefined) return undefined;
      switch (node.op) {
        case '+': return a + b;
        case '-': return a - b;
        case '*': return a * b;
        case '/': return b === 0 ? undefined : a / b;
        case '>': return a > b ? 1 : 0;
        case '<': return a < b ? 1 : 0;
        case '>=': return a >= b ? 1 : 0;
        case '<=': return a <= b ? 1 : 0;
        case '==': return a === b ? 1 : 0;
        case '!=': return a !== b ? 1 : 0;
        case 'AND': return a !== 0 && b !== 0 ? 1 : 0;
        case 'OR': return a !== 0 || b !== 0 ? 1 : 0;
      }
      throw new Error(`metric math: operator ${node.op}`);
    }
    case 'call': {
      if (node.fn === 'IF') {
        if (node.args.length !== 3 && node.args.length !== 2) throw new Error('metric math: IF takes 2 or 3 arguments');
        const c = evaluate(node.args[0], values);
        if (c === undefined) return undefined;
        if (c !== 0) return evaluate(node.args[1], values);
        return node.args.length === 3 ? evaluate(node.args[2], values) : undefined;
      }
      if (node.fn === 'ABS') {
        const v = evaluate(node.args[0], values);
        return v === undefined ? undefined : Math.abs(v);
      }
      throw new Error(`metric math: function ${node.fn} is not modelled`);
    }
  }
}

// ---------------------------------------------------------------- traffic

/** One request as SageMaker counts it. */
export interface Request {
  readonly error5xx?: boolean;
  readonly modelError?: boolean;
  readonly latencyMicros: number;
}

/** What one variant did in one second: its requests, and the quality samples the application published. */
export interface Second {
  readonly requests: Request[];
  readonly quality?: number[];
}

/** Synthetic traffic: what a variant did in a given second (seconds since the start of the simulation). */
export type Traffic = (variantName: string, second: number) => Second;

/** The queried metric of one `MetricStat` of an alarm. */
export interface MetricQuery {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
  readonly stat: string;
}

function statistic(values: number[], stat: string): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  switch (stat) {
    case 'Sum': return values.reduce((a, b) => a + b, 0);
    case 'SampleCount': return values.length;
    case 'Average': return values.reduce((a, b) => a + b, 0) / values.length;
    case 'Minimum': return sorted[0];
    case 'Maximum': return sorted[sorted.length - 1];
  }
  const p = /^p(\d+(?:\.\d+)?)$/.exec(stat);
  if (p) return sorted[Math.max(0, Math.ceil((Number(p[1]) / 100) * sorted.length) - 1)];
  throw new Error(`statistic ${stat} is not modelled`);
}

/** Options of the metric store: how SageMaker's datapoints are stored. */
export interface StoreOptions {
  /**
   * Resolution at which datapoints are stored, in seconds. 60 models the case fast detection
   * guards against: CloudWatch keeps SageMaker's datapoints at one-minute resolution, so a
   * 10-second period sees data only in the first 10 seconds of each minute.
   * @default 1
   */
  readonly storageResolutionSeconds?: number;
}

/**
 * The value of a metric over one period, aggregated from the traffic the way CloudWatch would:
 * SageMaker's invocation metrics (`AWS/SageMaker`) from the requests, any other namespace from
 * the application's quality samples.
 */
export function metricValue(traffic: Traffic, q: MetricQuery, start: number, period: number, options: StoreOptions = {}): number | undefined {
  const variant = q.dimensions.VariantName;
  if (variant === undefined) throw new Error(`metric ${q.metricName} has no VariantName dimension`);
  const resolution = options.storageResolutionSeconds ?? 1;
  const values: number[] = [];
  for (let s = start; s < start + period; s++) {
    // At a coarser resolution, a datapoint is stored under the start of its resolution bucket.
    if (resolution > 1 && s % resolution !== 0) continue;
    const seconds = resolution > 1 ? Array.from({ length: resolution }, (_, k) => s + k) : [s];
    for (const t of seconds) {
      const second = traffic(variant, t);
      if (q.namespace === 'AWS/SageMaker') {
        for (const r of second.requests) {
          switch (q.metricName) {
            case 'Invocations': values.push(1); break;
            case 'Invocation5XXErrors': values.push(r.error5xx ? 1 : 0); break;
            case 'InvocationModelErrors': values.push(r.modelError ? 1 : 0); break;
            case 'ModelLatency': values.push(r.latencyMicros); break;
            default: throw new Error(`SageMaker metric ${q.metricName} is not modelled`);
          }
        }
      } else {
        values.push(...(second.quality ?? []));
      }
    }
  }
  return statistic(values, q.stat);
}

// ---------------------------------------------------------------- alarms

/** The CloudFormation properties of an `AWS::CloudWatch::Alarm` with `Metrics` (metric math). */
export interface AlarmProperties {
  readonly Metrics: any[];
  readonly Threshold: number;
  readonly ComparisonOperator: string;
  readonly EvaluationPeriods: number;
  readonly DatapointsToAlarm?: number;
  readonly TreatMissingData?: string;
}

function dimensionsOf(metric: any): Record<string, string> {
  const dims: Record<string, string> = {};
  for (const d of metric.Dimensions ?? []) {
    if (typeof d.Value !== 'string') {
      // A reference (the new fleet's EndpointConfigName): the synthetic traffic is that fleet's.
      continue;
    }
    dims[d.Name] = d.Value;
  }
  return dims;
}

/** The alarm's period: that of its metric stats. */
export function periodOf(alarm: AlarmProperties): number {
  const periods = alarm.Metrics.filter((m) => m.MetricStat).map((m) => m.MetricStat.Period as number);
  if (new Set(periods).size !== 1) throw new Error(`alarm mixes periods ${periods.join(', ')}`);
  return periods[0];
}

/** The alarm's datapoint for the period starting at `start` (seconds). */
export function datapoint(alarm: AlarmProperties, traffic: Traffic, start: number, options: StoreOptions = {}): number | undefined {
  const period = periodOf(alarm);
  const values: Record<string, number | undefined> = {};
  for (const m of alarm.Metrics.filter((x) => x.MetricStat)) {
    const stat = m.MetricStat;
    values[m.Id] = metricValue(traffic, {
      namespace: stat.Metric.Namespace, metricName: stat.Metric.MetricName, dimensions: dimensionsOf(stat.Metric), stat: stat.Stat,
    }, start, period, options);
  }
  const expressions = alarm.Metrics.filter((x) => x.Expression);
  if (expressions.length !== 1) throw new Error('the evaluator judges alarms with exactly one expression');
  return evaluate(parse(expressions[0].Expression), values);
}

function breaches(alarm: AlarmProperties, value: number): boolean {
  switch (alarm.ComparisonOperator) {
    case 'GreaterThanThreshold': return value > alarm.Threshold;
    case 'GreaterThanOrEqualToThreshold': return value >= alarm.Threshold;
    case 'LessThanThreshold': return value < alarm.Threshold;
    case 'LessThanOrEqualToThreshold': return value <= alarm.Threshold;
  }
  throw new Error(`comparison ${alarm.ComparisonOperator} is not modelled`);
}

/** What an alarm did over a simulated stretch of time. */
export interface Simulation {
  /** Seconds at which the alarm was first in ALARM, or undefined if it never was. */
  readonly firstAlarmAt?: number;
  /** Every evaluation: time and whether it was in ALARM. */
  readonly evaluations: { at: number; alarm: boolean }[];
}

/**
 * Runs an alarm over `[0, durationSeconds)` of synthetic traffic: evaluated every 10 s (periods
 * under a minute) or 60 s, on the last `EvaluationPeriods` complete periods.
 */
export function simulate(alarm: AlarmProperties, traffic: Traffic, durationSeconds: number, options: StoreOptions = {}): Simulation {
  const period = periodOf(alarm);
  const interval = period < 60 ? 10 : 60;
  const m = alarm.DatapointsToAlarm ?? alarm.EvaluationPeriods;
  const evaluations: { at: number; alarm: boolean }[] = [];
  let firstAlarmAt: number | undefined;
  const cache = new Map<number, number | undefined>();
  for (let at = interval; at <= durationSeconds; at += interval) {
    const lastEnd = Math.floor(at / period) * period;
    let breaching = 0;
    for (let k = 0; k < alarm.EvaluationPeriods; k++) {
      const start = lastEnd - (k + 1) * period;
      if (start < 0) continue;
      if (!cache.has(start)) cache.set(start, datapoint(alarm, traffic, start, options));
      const value = cache.get(start);
      if (value === undefined) {
        if (alarm.TreatMissingData === 'breaching') breaching++;
        continue;
      }
      if (breaches(alarm, value)) breaching++;
    }
    const inAlarm = breaching >= m;
    evaluations.push({ at, alarm: inAlarm });
    if (inAlarm && firstAlarmAt === undefined) firstAlarmAt = at;
  }
  return { firstAlarmAt, evaluations };
}

/** The properties of the one alarm of a template with this name. */
export function alarmNamed(template: { findResources(type: string): Record<string, any> }, name: string): AlarmProperties {
  const found = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a: any) => a.Properties.AlarmName === name);
  if (found.length !== 1) throw new Error(`expected one alarm named ${name}, found ${found.length}`);
  return found[0].Properties;
}

// ---------------------------------------------------------------- traffic helpers

/** `n` requests per second, each with the given outcome. */
export function requests(n: number, outcome: Request): Request[] {
  return Array.from({ length: n }, () => outcome);
}

/** A steady healthy variant: `rps` requests per second at `latencyMs`. */
export function healthy(rps: number, latencyMs = 50): Second {
  return { requests: requests(rps, { latencyMicros: latencyMs * 1000 }) };
}
