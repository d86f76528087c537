import { MetricHistory, MetricPoint, RunStatus, RunSummary, TrackedRun, TrackingPort, Unavailable } from '@app/domain';

/** MLflow 3 truncates longer param values to this many characters. */
const PARAM_VALUE_LENGTH = 6000;

interface StoredPoint {
  value: number;
  step: number;
  timestamp: number;
}

interface StoredRun {
  experimentId: string;
  runName: string;
  status: RunStatus;
  tags: Record<string, string>;
  params: Record<string, string>;
  metrics: Map<string, StoredPoint>;
  /** Every point logged, in the order it was logged. */
  history: Map<string, StoredPoint[]>;
  artifacts: Map<string, Uint8Array>;
}

/**
 * A tracking server in memory that behaves like MLflow; `unavailable` simulates an outage, and
 * `unavailableCalls` one that only some calls see (e.g. 'endRun', the server dying mid-job).
 */
export class InMemoryTracking extends TrackingPort {
  readonly runs = new Map<string, StoredRun>();
  unavailable = false;
  readonly unavailableCalls = new Set<keyof TrackingPort>();
  private readonly experiments = new Map<string, string>();
  private nextId = 1;

  async startRun(experimentName: string, runName: string, tags: Record<string, string>): Promise<TrackedRun> {
    this.checkAvailable('startRun');
    let experimentId = this.experiments.get(experimentName);
    if (!experimentId) {
      experimentId = String(this.nextId++);
      this.experiments.set(experimentName, experimentId);
    }
    if (tags.job_id) {
      const running = [...this.runs].find(([, run]) => run.experimentId === experimentId && run.status === 'RUNNING' && run.tags.job_id === tags.job_id);
      if (running) return { runId: running[0], experimentId };
    }
    const runId = (this.nextId++).toString(16).padStart(32, '0');
    this.runs.set(runId, { experimentId, runName, status: 'RUNNING', tags: { ...tags }, params: {}, metrics: new Map(), history: new Map(), artifacts: new Map() });
    return { runId, experimentId };
  }

  async logParams(runId: string, params: Record<string, string>): Promise<void> {
    const run = this.run(runId, 'logParams');
    for (const [key, value] of Object.entries(params)) {
      const stored = Array.from(value).slice(0, PARAM_VALUE_LENGTH).join('');
      if (key in run.params && run.params[key] !== stored) {
        throw new Error(`Changing param values is not allowed: param ${key} of run ${runId} is already logged`);
      }
      run.params[key] = stored;
    }
  }

  async logMetrics(runId: string, metrics: MetricPoint[]): Promise<void> {
    const run = this.run(runId, 'logMetrics');
    const now = Date.now();
    for (const metric of metrics) {
      const point = { value: metric.value, step: metric.step ?? 0, timestamp: metric.timestamp ?? now };
      run.history.set(metric.key, [...(run.history.get(metric.key) ?? []), point]);
      const latest = run.metrics.get(metric.key);
      // MLflow's "latest" is the greatest (step, timestamp, value), not the last one logged.
      if (!latest || compare(point, latest) >= 0) run.metrics.set(metric.key, point);
    }
  }

  async logArtifact(runId: string, artifactPath: string, content: Uint8Array): Promise<void> {
    const run = this.run(runId, 'logArtifact');
    const segments = artifactPath.split('/').filter((segment) => segment !== '' && segment !== '.');
    if (artifactPath.startsWith('/') || segments.length === 0 || segments.includes('..') || artifactPath.includes('\\')) {
      throw new Error(`artifact path must be a relative path inside the run, got '${artifactPath}'`);
    }
    run.artifacts.set(segments.join('/'), new Uint8Array(content));
  }

  async endRun(runId: string, status: Exclude<RunStatus, 'RUNNING'>): Promise<void> {
    this.run(runId, 'endRun').status = status;
  }

  async getRun(runId: string): Promise<RunSummary | undefined> {
    this.checkAvailable('getRun');
    const run = this.runs.get(runId);
    if (!run) return undefined;
    const metrics = Object.fromEntries([...run.metrics].map(([key, point]) => [key, point.value]));
    return { runId, experimentId: run.experimentId, status: run.status, metrics, params: { ...run.params } };
  }

  async getMetricHistory(runId: string, key: string, maxPoints: number): Promise<MetricHistory> {
    this.checkAvailable('getMetricHistory');
    const logged = this.runs.get(runId)?.history.get(key) ?? [];
    const points = logged
      .slice(0, maxPoints)
      .map((point) => ({ step: point.step, value: Number.isFinite(point.value) ? point.value : null, timestamp: point.timestamp }))
      .sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
    return { points, truncated: logged.length > maxPoints };
  }

  private run(runId: string, call: keyof TrackingPort): StoredRun {
    this.checkAvailable(call);
    const run = this.runs.get(runId);
    if (!run) throw new Error(`Run with id=${runId} not found`);
    return run;
  }

  private checkAvailable(call: keyof TrackingPort): void {
    if (this.unavailable || this.unavailableCalls.has(call)) throw new Unavailable('MLflow tracking server at memory:// is unreachable after 1 attempts: simulated outage');
  }
}

function compare(a: StoredPoint, b: StoredPoint): number {
  return a.step - b.step || a.timestamp - b.timestamp || a.value - b.value;
}
