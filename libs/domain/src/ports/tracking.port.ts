/** A run in the tracking server. */
export interface TrackedRun {
  runId: string;
  experimentId: string;
}

export type RunStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface RunSummary extends TrackedRun {
  status: RunStatus;
  /** Latest value of each metric. */
  metrics: Record<string, number>;
  params: Record<string, string>;
}

export interface MetricPoint {
  key: string;
  value: number;
  step?: number;
  timestamp?: number;
}

/** One logged point of a metric's history; value is null for NaN or an infinity, which JSON cannot carry. */
export interface HistoryPoint {
  step: number;
  value: number | null;
  timestamp: number;
}

export interface MetricHistory {
  /** Ordered by step, then timestamp. */
  points: HistoryPoint[];
  /** True when the metric has more points than were asked for. */
  truncated: boolean;
}

/** Experiment tracking (MLflow): every job gets one run that the user's code attaches to. */
export abstract class TrackingPort {
  /**
   * A new RUNNING run, or, when `tags.job_id` is set and the experiment has a RUNNING run with that
   * tag, that run: a start retried after a timeout or an outage never makes a second run for one job.
   */
  abstract startRun(experimentName: string, runName: string, tags: Record<string, string>): Promise<TrackedRun>;
  abstract logParams(runId: string, params: Record<string, string>): Promise<void>;
  abstract logMetrics(runId: string, metrics: MetricPoint[]): Promise<void>;
  abstract logArtifact(runId: string, artifactPath: string, content: Uint8Array): Promise<void>;
  abstract endRun(runId: string, status: Exclude<RunStatus, 'RUNNING'>): Promise<void>;
  /** The run with its latest metrics, or undefined when the server does not know it. */
  abstract getRun(runId: string): Promise<RunSummary | undefined>;
  /** Every logged point of one metric, at most `maxPoints` of them; empty for a key or run the server does not know. */
  abstract getMetricHistory(runId: string, key: string, maxPoints: number): Promise<MetricHistory>;
}
