// parse-prometheus-text-format ships no types; this file is its one typed door.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parsePrometheus = require('parse-prometheus-text-format') as (text: string) => Family[];

export interface Family {
  name: string;
  help: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string> }[];
}

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/**
 * A scrape read by a Prometheus text parser: `families` as it parses them (it throws on a
 * malformed exposition), and `samples` by series name. The parser folds a labelled histogram's
 * series into one unlabelled entry, so for `samples` histograms are re-read as untyped series
 * (`x_bucket`, `x_sum`, `x_count`), each sample with its own labels.
 */
export function readScrape(text: string): { families: Family[]; samples: Map<string, Sample[]> } {
  const families = parsePrometheus(text);
  const flat = parsePrometheus(text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped'));
  const samples = new Map<string, Sample[]>();
  for (const family of flat) {
    const list = samples.get(family.name) ?? [];
    for (const metric of family.metrics) list.push({ labels: metric.labels ?? {}, value: Number(metric.value) });
    samples.set(family.name, list);
  }
  return { families, samples };
}

/** The value of the one series of `name` whose labels include `labels`; 0 when there is none yet. */
export function valueOf(samples: Map<string, Sample[]>, name: string, labels: Record<string, string> = {}): number {
  const matching = (samples.get(name) ?? []).filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  if (matching.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${matching.length} series; name more labels`);
  return matching[0]?.value ?? 0;
}
