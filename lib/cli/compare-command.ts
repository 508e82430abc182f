import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { CaptureRecord, compareRecords, ComparisonReport, parseCaptureLine } from '../runtime/compare';
import { variantMetricValues } from '../runtime/signals';
import { CliClients, CliError, ExitCode, ManagedEndpoint } from './context';
import { num, percent, table } from './format';

export interface CompareOptions {
  readonly since: Date;
  readonly until: Date;
  /** `s3://bucket/prefix` where the endpoint captures; default: what the endpoint reports. */
  readonly captureUri?: string;
  readonly productionVariant?: string;
  readonly shadowVariant?: string;
  readonly tolerance: number;
  readonly examples: number;
  /** Most capture files read per variant. */
  readonly maxFiles: number;
}

export interface CompareResult extends ComparisonReport {
  readonly endpointName: string;
  readonly since: string;
  readonly until: string;
  readonly productionVariant: string;
  readonly shadowVariant: string;
  readonly latencyMs: Record<string, { mean?: number; max?: number }>;
  readonly filesRead: Record<string, number>;
  readonly truncated: boolean;
}

/**
 * Reads the captured requests and answers of production and the shadow for a time window and
 * reports how often they agree, their latency (from CloudWatch, as capture records hold none) and
 * a few disagreeing examples.
 */
export async function compareVariants(clients: CliClients, target: ManagedEndpoint, options: CompareOptions): Promise<CompareResult> {
  const e = target.endpoint;
  const spec = target.store ? await target.store.getSpec(e.name) : undefined;
  const productionVariant = options.productionVariant ?? spec?.productionVariant ?? 'production';
  const shadowVariant = options.shadowVariant ?? spec?.candidateVariant ?? 'shadow';
  const uri = options.captureUri ?? e.captureDestination;
  if (!uri) {
    throw new CliError(`endpoint "${e.name}" reports no data capture destination: pass --capture-uri s3://bucket/prefix`, ExitCode.USAGE);
  }
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new CliError(`--capture-uri must be s3://bucket/prefix, got "${uri}"`, ExitCode.USAGE);
  const [, bucket, prefix] = match;

  const read = async (variant: string) => readCaptures(clients, bucket, prefix.replace(/\/+$/, ''), e.name, variant, options);
  const production = await read(productionVariant);
  const shadow = await read(shadowVariant);
  const report = compareRecords(production.records, shadow.records, { tolerance: options.tolerance, examples: options.examples });
  return {
    ...report,
    endpointName: e.name,
    since: options.since.toISOString(),
    until: options.until.toISOString(),
    productionVariant,
    shadowVariant,
    latencyMs: {
      [productionVariant]: await latency(clients, e.name, productionVariant, options.since, options.until),
      [shadowVariant]: await latency(clients, e.name, shadowVariant, options.since, options.until),
    },
    filesRead: { [productionVariant]: production.files, [shadowVariant]: shadow.files },
    truncated: production.truncated || shadow.truncated,
  };
}

/** Capture files live under `<prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/`; one listing per hour of the window. */
async function readCaptures(clients: CliClients, bucket: string, prefix: string, endpointName: string, variant: string, options: CompareOptions) {
  const records: CaptureRecord[] = [];
  let files = 0;
  let truncated = false;
  const hour = new Date(options.since);
  hour.setUTCMinutes(0, 0, 0);
  for (; hour <= options.until && !truncated; hour.setUTCHours(hour.getUTCHours() + 1)) {
    const p = (n: number) => String(n).padStart(2, '0');
    const hourPrefix = `${prefix ? `${prefix}/` : ''}${endpointName}/${variant}/${hour.getUTCFullYear()}/${p(hour.getUTCMonth() + 1)}/${p(hour.getUTCDate())}/${p(hour.getUTCHours())}/`;
    let token: string | undefined;
    do {
      const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: hourPrefix, ContinuationToken: token }));
      for (const object of listed.Contents ?? []) {
        if (files >= options.maxFiles) {
          truncated = true;
          break;
        }
        files++;
        const body = await (await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key! }))).Body!.transformToString();
        for (const line of body.split('\n')) {
          const record = parseCaptureLine(line);
          const t = record?.inferenceTime ? Date.parse(record.inferenceTime) : NaN;
          if (record && (Number.isNaN(t) || (t >= options.since.getTime() && t <= options.until.getTime()))) records.push(record);
        }
      }
      token = truncated ? undefined : listed.NextContinuationToken;
    } while (token);
  }
  return { records, files, truncated };
}

/** Mean and maximum `ModelLatency` of a variant over the window, in milliseconds. */
async function latency(clients: CliClients, endpointName: string, variantName: string, start: Date, end: Date): Promise<{ mean?: number; max?: number }> {
  const values = await variantMetricValues(clients.cloudwatch, {
    endpointName, variantName, metricName: 'ModelLatency', statistics: ['Sum', 'SampleCount', 'Maximum'], start, end,
  });
  const sum = values.Sum.reduce((a, b) => a + b, 0);
  const count = values.SampleCount.reduce((a, b) => a + b, 0);
  // ModelLatency is published in microseconds.
  return { mean: count > 0 ? sum / count / 1000 : undefined, max: values.Maximum.length > 0 ? Math.max(...values.Maximum) / 1000 : undefined };
}

export function renderComparison(r: CompareResult): string {
  const out: string[] = [];
  out.push(`Shadow comparison of ${r.endpointName}, ${r.since} to ${r.until}`);
  out.push('');
  out.push(table(['', r.productionVariant, r.shadowVariant], [
    ['captured requests', String(r.productionRecords), String(r.shadowRecords)],
    ['mean latency (ms)', num(r.latencyMs[r.productionVariant]?.mean), num(r.latencyMs[r.shadowVariant]?.mean)],
    ['max latency (ms)', num(r.latencyMs[r.productionVariant]?.max), num(r.latencyMs[r.shadowVariant]?.max)],
  ]));
  out.push('');
  out.push(`Pairs of the same request: ${r.pairs} (by inference id ${r.pairedBy.inferenceId}, by event id ${r.pairedBy.eventId}, by identical input ${r.pairedBy.input}); `
    + `unpaired: ${r.unpairedProduction} production, ${r.unpairedShadow} shadow`);
  out.push(`Agreement: ${percent(r.exactAgreementPercent)} exact (${r.exactAgreement} of ${r.pairs}), `
    + `${percent(r.toleranceAgreementPercent)} within a relative tolerance of ${r.tolerance} (${r.toleranceAgreement} of ${r.pairs})`);
  if (r.truncated) out.push('Note: stopped at --max-files capture files per variant; narrow the window for a complete count.');
  if (r.disagreements.length > 0) {
    out.push('');
    out.push('Disagreements (first few):');
    out.push(table(['ID', 'INPUT', 'PRODUCTION', 'SHADOW'], r.disagreements.map((d) => [d.id, d.input, d.production, d.shadow])));
  }
  return out.join('\n');
}
