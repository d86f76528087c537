/** Latency bookkeeping and plain-text tables for the benchmark's report. */

export interface Sample {
  /** ms since the run started, when the response completed */
  at: number;
  /** ms from request sent to response complete */
  latency: number;
}

export interface Summary {
  count: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function summarize(latencies: number[], seconds: number): Summary {
  const sorted = Float64Array.from(latencies).sort();
  return {
    count: sorted.length,
    seconds,
    perSecond: sorted.length / seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1] : NaN,
  };
}

/** Throughput and P95 per time slice of a run, to show whether a path slows down as data piles up. */
export function drift(samples: Sample[], seconds: number, slices = 5): string {
  if (samples.length === 0) return 'no samples';
  const width = (seconds * 1000) / slices;
  const parts: string[] = [];
  for (let slice = 0; slice < slices; slice++) {
    const inSlice = samples.filter((sample) => sample.at >= slice * width && sample.at < (slice + 1) * width);
    const s = summarize(
      inSlice.map((sample) => sample.latency),
      width / 1000,
    );
    parts.push(`${fmt(s.perSecond, 0)}/s p95 ${fmt(s.p95)}`);
  }
  return parts.join(' | ');
}

export function fmt(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return '-';
  return value.toFixed(digits);
}

export function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

/** A fixed-width text table; the first row is the header. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const line = (row: string[]) =>
    '| ' + row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join(' | ') + ' |';
  const rule = '|' + widths.map((width, column) => (column === 0 ? '-'.repeat(width + 1) + ' ' : ' ' + '-'.repeat(width) + ':')).join('|') + '|';
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join('\n');
}

export function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'MISS';
}
