/**
 * Comparing a shadow's answers with production's, from SageMaker's data-capture records
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture-endpoint.html): pure functions over parsed records, no I/O.
 */

/** One captured request and answer. */
export interface CaptureRecord {
  readonly eventId?: string;
  readonly inferenceId?: string;
  readonly inferenceTime?: string;
  readonly input?: CapturedPayload;
  readonly output?: CapturedPayload;
}

export interface CapturedPayload {
  readonly data: string;
  readonly encoding: string;
  readonly contentType?: string;
}

/** Parses one JSON line of a capture file; undefined for a line that is not a capture record. */
export function parseCaptureLine(line: string): CaptureRecord | undefined {
  if (line.trim() === '') return undefined;
  let raw: any;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!raw?.captureData) return undefined;
  const payload = (p: any): CapturedPayload | undefined => (p && typeof p.data === 'string'
    ? { data: p.data, encoding: String(p.encoding ?? 'BASE64'), contentType: p.observedContentType } : undefined);
  return {
    eventId: raw.eventMetadata?.eventId,
    inferenceId: raw.eventMetadata?.inferenceId,
    inferenceTime: raw.eventMetadata?.inferenceTime,
    input: payload(raw.captureData.endpointInput),
    output: payload(raw.captureData.endpointOutput),
  };
}

export type PairedBy = 'inferenceId' | 'eventId' | 'input';

export interface Pair {
  readonly production: CaptureRecord;
  readonly shadow: CaptureRecord;
  readonly by: PairedBy;
}

/** How close in time two records with the same input must be to count as the same request. */
export const SAME_REQUEST_WINDOW_MS = 60_000;

/**
 * Pairs production and shadow records of the same request: by the caller's inference id when both
 * have it; else by event id (whether SageMaker gives a request's shadow copy the same event id is
 * UNCONFIRMED); else by identical input captured within a minute of each other.
 */
export function pairRecords(production: CaptureRecord[], shadow: CaptureRecord[]): { pairs: Pair[]; unpairedProduction: number; unpairedShadow: number } {
  const pairs: Pair[] = [];
  const left = new Set(production);
  const right = new Set(shadow);
  const matchBy = (by: PairedBy, key: (r: CaptureRecord) => string | undefined) => {
    const index = new Map<string, CaptureRecord[]>();
    for (const r of right) {
      const k = key(r);
      if (k !== undefined) index.set(k, [...(index.get(k) ?? []), r]);
    }
    for (const p of left) {
      const k = key(p);
      const candidates = k !== undefined ? index.get(k) : undefined;
      if (!candidates || candidates.length === 0) continue;
      const s = by === 'input' ? closestInTime(p, candidates) : candidates[0];
      if (!s) continue;
      candidates.splice(candidates.indexOf(s), 1);
      left.delete(p);
      right.delete(s);
      pairs.push({ production: p, shadow: s, by });
    }
  };
  matchBy('inferenceId', (r) => r.inferenceId);
  matchBy('eventId', (r) => r.eventId);
  matchBy('input', (r) => (r.input ? `${r.input.encoding}:${r.input.data}` : undefined));
  return { pairs, unpairedProduction: left.size, unpairedShadow: right.size };
}

function closestInTime(p: CaptureRecord, candidates: CaptureRecord[]): CaptureRecord | undefined {
  const t = timeOf(p);
  let best: CaptureRecord | undefined;
  let bestGap = Infinity;
  for (const c of candidates) {
    const gap = Math.abs(timeOf(c) - t);
    if (gap <= SAME_REQUEST_WINDOW_MS && gap < bestGap) {
      best = c;
      bestGap = gap;
    }
  }
  return best;
}

function timeOf(r: CaptureRecord): number {
  const t = r.inferenceTime ? Date.parse(r.inferenceTime) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** An answer decoded for comparison: JSON as values, CSV as cells (numbers where they parse), else text. */
export function decodeAnswer(payload: CapturedPayload | undefined): unknown {
  if (!payload) return undefined;
  const text = payload.encoding.toUpperCase() === 'BASE64' ? Buffer.from(payload.data, 'base64').toString('utf-8') : payload.data;
  if (payload.encoding.toUpperCase() === 'JSON' || /json/i.test(payload.contentType ?? '')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  if (payload.encoding.toUpperCase() === 'CSV' || /csv/i.test(payload.contentType ?? '')) {
    return text.trim().split(/\r?\n/).map((row) => row.split(',').map((cell) => (cell.trim() !== '' && !Number.isNaN(Number(cell)) ? Number(cell) : cell.trim())));
  }
  return text;
}

/**
 * Whether two decoded answers agree: exactly, or with numbers within a relative tolerance
 * (|a - b| <= tolerance x max(1, |a|, |b|)) and everything else equal.
 */
export function agree(a: unknown, b: unknown, tolerance: number): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(a), Math.abs(b));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => agree(x, b[i], tolerance));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a as object).sort();
    const kb = Object.keys(b as object).sort();
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && agree((a as any)[k], (b as any)[k], tolerance));
  }
  return a === b;
}

export interface ComparisonReport {
  readonly productionRecords: number;
  readonly shadowRecords: number;
  readonly pairs: number;
  readonly pairedBy: Record<PairedBy, number>;
  readonly unpairedProduction: number;
  readonly unpairedShadow: number;
  readonly exactAgreement: number;
  readonly toleranceAgreement: number;
  readonly tolerance: number;
  /** Share of pairs that agree exactly / within the tolerance, in percent (undefined without pairs). */
  readonly exactAgreementPercent?: number;
  readonly toleranceAgreementPercent?: number;
  readonly disagreements: { id: string; input: string; production: string; shadow: string }[];
}

export function compareRecords(production: CaptureRecord[], shadow: CaptureRecord[], options: { tolerance: number; examples: number }): ComparisonReport {
  const { pairs, unpairedProduction, unpairedShadow } = pairRecords(production, shadow);
  const pairedBy: Record<PairedBy, number> = { inferenceId: 0, eventId: 0, input: 0 };
  let exact = 0;
  let close = 0;
  const disagreements: ComparisonReport['disagreements'] = [];
  for (const pair of pairs) {
    pairedBy[pair.by]++;
    const a = decodeAnswer(pair.production.output);
    const b = decodeAnswer(pair.shadow.output);
    if (agree(a, b, 0)) exact++;
    if (agree(a, b, options.tolerance)) {
      close++;
    } else if (disagreements.length < options.examples) {
      disagreements.push({
        id: pair.production.inferenceId ?? pair.production.eventId ?? '(none)',
        input: shorten(decodeForDisplay(pair.production.input)),
        production: shorten(decodeForDisplay(pair.production.output)),
        shadow: shorten(decodeForDisplay(pair.shadow.output)),
      });
    }
  }
  const percent = (n: number) => (pairs.length > 0 ? Math.round((n / pairs.length) * 10000) / 100 : undefined);
  return {
    productionRecords: production.length,
    shadowRecords: shadow.length,
    pairs: pairs.length,
    pairedBy,
    unpairedProduction,
    unpairedShadow,
    exactAgreement: exact,
    toleranceAgreement: close,
    tolerance: options.tolerance,
    exactAgreementPercent: percent(exact),
    toleranceAgreementPercent: percent(close),
    disagreements,
  };
}

function decodeForDisplay(payload: CapturedPayload | undefined): string {
  if (!payload) return '(not captured)';
  return payload.encoding.toUpperCase() === 'BASE64' ? Buffer.from(payload.data, 'base64').toString('utf-8') : payload.data;
}

function shorten(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
