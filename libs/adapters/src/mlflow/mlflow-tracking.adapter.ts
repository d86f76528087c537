import { HistoryPoint, MetricHistory, MetricPoint, RunStatus, RunSummary, TrackedRun, TrackingPort, Unavailable } from '@app/domain';
import { MlflowApiError, MlflowRestClient, MlflowTrackingOptions } from './mlflow-rest.client';
import { BoundedCache } from '../support/bounded-cache';

export type { MlflowTrackingOptions } from './mlflow-rest.client';

/** MLflow 3's own limits (mlflow/utils/validation.py); longer values are truncated, not refused. */
export const MLFLOW_LIMITS = {
  paramsPerBatch: 100,
  metricsPerBatch: 1000,
  /** Points asked for per metrics/get-history page. */
  historyPageSize: 5000,
  /** The server refuses log-batch bodies over 1 MB; stay under it with room for the envelope. */
  batchBytes: 900_000,
  paramValueLength: 6000,
  tagValueLength: 8000,
};

interface KeyValue {
  key: string;
  value: string;
}
interface WireMetric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
}
interface WireExperiment {
  experiment_id: string;
  lifecycle_stage: string;
}
interface WireRun {
  info: { run_id: string; experiment_id: string; status: string; artifact_uri: string };
  data: { metrics?: WireMetric[]; params?: KeyValue[] };
}

/** TrackingPort over MLflow's REST API 2.0; artifacts go through the server's artifact proxy. */
export class MlflowTrackingAdapter extends TrackingPort {
  private readonly rest: MlflowRestClient;
  /** Experiment ids by name: one lookup per worker instead of one per job. */
  private readonly experiments = new Map<string, string>();
  /** Artifact roots of runs this adapter created, so logging an artifact needs no runs/get. */
  private readonly artifactUris = new BoundedCache<string>(1000);

  constructor(options: MlflowTrackingOptions) {
    super();
    this.rest = new MlflowRestClient(options);
  }

  async startRun(experimentName: string, runName: string, tags: Record<string, string>): Promise<TrackedRun> {
    const cached = this.experiments.get(experimentName);
    let run: WireRun;
    try {
      run = await this.findOrCreateRun(cached ?? (await this.experimentId(experimentName)), runName, tags);
    } catch (error) {
      // The cached experiment may have been deleted since: look it up again (restoring it) once.
      if (!cached || !(error instanceof MlflowApiError)) throw error;
      this.experiments.delete(experimentName);
      run = await this.findOrCreateRun(await this.experimentId(experimentName), runName, tags);
    }
    this.experiments.set(experimentName, run.info.experiment_id);
    this.artifactUris.set(run.info.run_id, run.info.artifact_uri);
    return { runId: run.info.run_id, experimentId: run.info.experiment_id };
  }

  async logParams(runId: string, params: Record<string, string>): Promise<void> {
    const entries = keyValues(params, MLFLOW_LIMITS.paramValueLength);
    for (const batch of batches(entries, MLFLOW_LIMITS.paramsPerBatch)) {
      await this.rest.post('runs/log-batch', { run_id: runId, params: batch });
    }
  }

  async logMetrics(runId: string, metrics: MetricPoint[]): Promise<void> {
    const now = Date.now();
    const wire = metrics.map((metric) => ({
      key: metric.key,
      // JSON has no NaN or Infinity; MLflow's protobuf parser takes them as strings.
      value: Number.isFinite(metric.value) ? metric.value : String(metric.value),
      timestamp: metric.timestamp ?? now,
      step: metric.step ?? 0,
    }));
    for (const batch of batches(wire, MLFLOW_LIMITS.metricsPerBatch)) {
      await this.rest.post('runs/log-batch', { run_id: runId, metrics: batch });
    }
  }

  async logArtifact(runId: string, artifactPath: string, content: Uint8Array): Promise<void> {
    const segments = artifactSegments(artifactPath);
    const artifactUri = this.artifactUris.get(runId) ?? (await this.fetchRun(runId))?.info.artifact_uri;
    if (!artifactUri) throw new Error(`cannot log artifact ${artifactPath}: run ${runId} does not exist`);
    // The run's artifact_uri is mlflow-artifacts:/{experimentId}/{runId}/artifacts when the
    // server proxies artifacts (--serve-artifacts); the proxy serves that path under its own root.
    const root = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.+)$/.exec(artifactUri)?.[1];
    if (!root) {
      throw new Error(`run ${runId} stores artifacts at ${artifactUri}, which the tracking server does not proxy (start it with --serve-artifacts)`);
    }
    const path = [...root.split('/'), ...segments].map(encodeURIComponent).join('/');
    await this.rest.put(`/api/2.0/mlflow-artifacts/artifacts/${path}`, content);
  }

  async endRun(runId: string, status: Exclude<RunStatus, 'RUNNING'>): Promise<void> {
    await this.rest.post('runs/update', { run_id: runId, status, end_time: Date.now() });
  }

  async getRun(runId: string): Promise<RunSummary | undefined> {
    const run = await this.fetchRun(runId);
    if (!run) return undefined;
    return {
      runId: run.info.run_id,
      experimentId: run.info.experiment_id,
      status: run.info.status as RunStatus,
      // runs/get already reports the latest point per key; NaN comes back as the string "NaN".
      metrics: Object.fromEntries((run.data.metrics ?? []).map((metric) => [metric.key, Number(metric.value)])),
      params: Object.fromEntries((run.data.params ?? []).map((param) => [param.key, param.value])),
    };
  }

  async getMetricHistory(runId: string, key: string, maxPoints: number): Promise<MetricHistory> {
    const points: HistoryPoint[] = [];
    let pageToken: string | undefined;
    // One point past the cap tells whether there were more.
    do {
      const query: Record<string, string> = {
        run_id: runId,
        metric_key: key,
        max_results: String(Math.min(MLFLOW_LIMITS.historyPageSize, maxPoints + 1 - points.length)),
      };
      if (pageToken) query.page_token = pageToken;
      // An unknown run or key is an empty answer ({}), not an error.
      const page = await this.rest.get<{ metrics?: WireMetric[]; next_page_token?: string }>('metrics/get-history', query);
      for (const metric of page.metrics ?? []) points.push({ step: Number(metric.step ?? 0), value: finiteOrNull(metric.value), timestamp: Number(metric.timestamp ?? 0) });
      pageToken = page.next_page_token || undefined;
    } while (pageToken && points.length <= maxPoints);
    const truncated = points.length > maxPoints || (pageToken !== undefined && points.length === maxPoints);
    // The server pages in timestamp order; charts want steps in order.
    const kept = points.slice(0, maxPoints).sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
    return { points: kept, truncated };
  }

  /** Whether the tracking server answers /health; for health checks, never throws. */
  ping(): Promise<boolean> {
    return this.rest.ping();
  }

  /**
   * runs/create is not idempotent: a request that timed out may still have made the run. For a job
   * (a job_id tag) its RUNNING run is looked up first, the create is tried once, and after an outage
   * the lookup runs again, so a retried start finds the run instead of making a second one.
   */
  private async findOrCreateRun(experimentId: string, runName: string, tags: Record<string, string>): Promise<WireRun> {
    const jobId = tags.job_id;
    // Job ids are plain ids; anything else could not be quoted safely in a filter.
    if (!jobId || !/^[\w.-]+$/.test(jobId)) return this.createRun(experimentId, runName, tags, false);
    const existing = await this.findRunningRun(experimentId, jobId);
    if (existing) return existing;
    try {
      return await this.createRun(experimentId, runName, tags, true);
    } catch (error) {
      if (!(error instanceof Unavailable)) throw error;
      const created = await this.findRunningRun(experimentId, jobId).catch(() => undefined);
      if (created) return created;
      throw error;
    }
  }

  private async findRunningRun(experimentId: string, jobId: string): Promise<WireRun | undefined> {
    const { runs } = await this.rest.post<{ runs?: WireRun[] }>('runs/search', {
      experiment_ids: [experimentId],
      filter: `tags.job_id = '${jobId}' and attributes.status = 'RUNNING'`,
      max_results: 1,
    });
    return runs?.[0];
  }

  private async createRun(experimentId: string, runName: string, tags: Record<string, string>, once: boolean): Promise<WireRun> {
    const { run } = await this.rest.post<{ run: WireRun }>(
      'runs/create',
      { experiment_id: experimentId, run_name: runName, start_time: Date.now(), tags: keyValues(tags, MLFLOW_LIMITS.tagValueLength) },
      { once },
    );
    return run;
  }

  private async fetchRun(runId: string): Promise<WireRun | undefined> {
    try {
      return (await this.rest.get<{ run: WireRun }>('runs/get', { run_id: runId })).run;
    } catch (error) {
      if (isMlflowError(error, 'RESOURCE_DOES_NOT_EXIST') || (error instanceof MlflowApiError && error.status === 404)) return undefined;
      throw error;
    }
  }

  /** Get-or-create by name; a deleted experiment is restored, a concurrent create is tolerated. */
  private async experimentId(name: string): Promise<string> {
    const existing = await this.findExperiment(name);
    if (existing) return this.activate(existing);
    try {
      return (await this.rest.post<{ experiment_id: string }>('experiments/create', { name })).experiment_id;
    } catch (error) {
      if (!isMlflowError(error, 'RESOURCE_ALREADY_EXISTS')) throw error;
      const raced = await this.findExperiment(name);
      if (!raced) throw error;
      return this.activate(raced);
    }
  }

  private async findExperiment(name: string): Promise<WireExperiment | undefined> {
    try {
      return (await this.rest.get<{ experiment: WireExperiment }>('experiments/get-by-name', { experiment_name: name })).experiment;
    } catch (error) {
      if (isMlflowError(error, 'RESOURCE_DOES_NOT_EXIST')) return undefined;
      throw error;
    }
  }

  private async activate(experiment: WireExperiment): Promise<string> {
    if (experiment.lifecycle_stage === 'deleted') {
      try {
        await this.rest.post('experiments/restore', { experiment_id: experiment.experiment_id });
      } catch (error) {
        // Restore finds only deleted experiments: RESOURCE_DOES_NOT_EXIST means another caller won.
        if (!isMlflowError(error, 'RESOURCE_DOES_NOT_EXIST')) throw error;
      }
    }
    return experiment.experiment_id;
  }
}

/** MLflow sends NaN and the infinities as strings. */
function finiteOrNull(value: number | string): number | null {
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

function isMlflowError(error: unknown, errorCode: string): boolean {
  return error instanceof MlflowApiError && error.errorCode === errorCode;
}

/** MLflow counts code points; cutting by them never splits a surrogate pair. */
function keyValues(record: Record<string, string>, maxValueLength: number): KeyValue[] {
  return Object.entries(record).map(([key, value]) => {
    const codePoints = Array.from(value);
    return { key, value: codePoints.length > maxValueLength ? codePoints.slice(0, maxValueLength).join('') : value };
  });
}

/** Splits items into batches of at most maxCount items and about MLFLOW_LIMITS.batchBytes of JSON. */
function batches<T>(items: T[], maxCount: number): T[][] {
  const result: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (current.length > 0 && (current.length === maxCount || bytes + size > MLFLOW_LIMITS.batchBytes)) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) result.push(current);
  return result;
}

/** A relative path inside the run's artifact root; '..' and absolute paths would escape it. */
function artifactSegments(artifactPath: string): string[] {
  const segments = artifactPath.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (artifactPath.startsWith('/') || segments.length === 0 || segments.includes('..') || artifactPath.includes('\\')) {
    throw new Error(`artifact path must be a relative path inside the run, got '${artifactPath}'`);
  }
  return segments;
}
