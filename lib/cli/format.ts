/** Plain-text rendering for people: aligned columns, no colours (logs and pagers stay readable). */

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function percent(value: number | undefined): string {
  return value === undefined ? '-' : `${Math.round(value * 100) / 100}%`;
}

export function num(value: number | undefined): string {
  return value === undefined ? '-' : String(Math.round(value * 100) / 100);
}

/** Parses "90s", "30m", "2h", "7d" into milliseconds. */
export function parseDurationMs(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** A time given as ISO 8601 or as a duration before `now` ("1h" = an hour ago). */
export function parseTime(text: string, now: Date): Date | undefined {
  const ago = parseDurationMs(text);
  if (ago !== undefined) return new Date(now.getTime() - ago);
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : new Date(t);
}
