import { TrackingPort } from '@app/domain';

/** Names that no earlier run of the suite used, so reruns against one server do not collide. */
function uniqueName(label: string): string {
  return `contract-${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** What every TrackingPort must do; run against the in-memory fake and a real MLflow server. */
export function trackingContract(make: () => Promise<TrackingPort>): void {
  let tracking: TrackingPort;
  let experiment: string;

  beforeEach(async () => {
    tracking = await make();
    experiment = uniqueName('exp');
  });

  it('starts a run that reads back as RUNNING with no metrics or params', async () => {
    const run = await tracking.startRun(experiment, 'first', { 'leadersboard.job_id': 'job-1', user: 'alice' });
    expect(run.runId).toMatch(/\S/);
    expect(run.experimentId).toMatch(/\S/);
    expect(await tracking.getRun(run.runId)).toEqual({ ...run, status: 'RUNNING', metrics: {}, params: {} });
  });

  it('puts runs of one experiment name in one experiment, and of another name in another', async () => {
    const first = await tracking.startRun(experiment, 'a', {});
    const second = await tracking.startRun(experiment, 'b', {});
    const elsewhere = await tracking.startRun(uniqueName('other'), 'c', {});
    expect(second.experimentId).toBe(first.experimentId);
    expect(second.runId).not.toBe(first.runId);
    expect(elsewhere.experimentId).not.toBe(first.experimentId);
  });

  it('reuses the RUNNING run of a job (same job_id tag) instead of starting a second one, never an ended one', async () => {
    const jobId = uniqueName('job');
    const first = await tracking.startRun(experiment, jobId, { job_id: jobId, user_id: 'alice' });
    expect(await tracking.startRun(experiment, jobId, { job_id: jobId, user_id: 'alice' })).toEqual(first);
    const otherJob = await tracking.startRun(experiment, 'other', { job_id: uniqueName('job') });
    expect(otherJob.runId).not.toBe(first.runId);
    await tracking.endRun(first.runId, 'FAILED');
    const second = await tracking.startRun(experiment, jobId, { job_id: jobId, user_id: 'alice' });
    expect(second.runId).not.toBe(first.runId);
    expect((await tracking.getRun(first.runId))?.status).toBe('FAILED');
  });

  it('reports the latest point of each metric: highest step, then latest timestamp', async () => {
    const { runId } = await tracking.startRun(experiment, 'metrics', {});
    await tracking.logMetrics(runId, [
      { key: 'loss', value: 0.9, step: 0 },
      { key: 'loss', value: 0.5, step: 2 },
      { key: 'image_AUROC', value: 0.7 },
    ]);
    await tracking.logMetrics(runId, [
      { key: 'loss', value: 0.7, step: 1 },
      { key: 'image_AUROC', value: 0.8, step: 0, timestamp: Date.now() + 60_000 },
    ]);
    expect((await tracking.getRun(runId))?.metrics).toEqual({ loss: 0.5, image_AUROC: 0.8 });
  });

  it('logs more metric points at once than one MLflow batch holds', async () => {
    const { runId } = await tracking.startRun(experiment, 'curve', {});
    const curve = Array.from({ length: 1500 }, (_, step) => ({ key: 'train_loss', value: 1 / (step + 1), step, timestamp: 1_700_000_000_000 + step }));
    await tracking.logMetrics(runId, curve);
    expect((await tracking.getRun(runId))?.metrics).toEqual({ train_loss: 1 / 1500 });
  });

  it('gives back every point of a metric, ordered by step then timestamp, with null for NaN', async () => {
    const { runId } = await tracking.startRun(experiment, 'history', {});
    await tracking.logMetrics(runId, [
      { key: 'loss', value: 0.5, step: 2, timestamp: 1_700_000_000_003 },
      { key: 'loss', value: 0.9, step: 0, timestamp: 1_700_000_000_009 },
      { key: 'loss', value: Number.NaN, step: 1, timestamp: 1_700_000_000_002 },
      { key: 'other', value: 1, step: 0, timestamp: 1_700_000_000_000 },
    ]);
    expect(await tracking.getMetricHistory(runId, 'loss', 100)).toEqual({
      points: [
        { step: 0, value: 0.9, timestamp: 1_700_000_000_009 },
        { step: 1, value: null, timestamp: 1_700_000_000_002 },
        { step: 2, value: 0.5, timestamp: 1_700_000_000_003 },
      ],
      truncated: false,
    });
    expect(await tracking.getMetricHistory(runId, 'missing', 100)).toEqual({ points: [], truncated: false });
    expect(await tracking.getMetricHistory('0123456789abcdef0123456789abcdef', 'loss', 100)).toEqual({ points: [], truncated: false });
  });

  it('pages through a long history and stops at the cap, saying it was cut', async () => {
    const { runId } = await tracking.startRun(experiment, 'long-history', {});
    const curve = Array.from({ length: 12_000 }, (_, step) => ({ key: 'loss', value: step, step, timestamp: 1_700_000_000_000 + step }));
    await tracking.logMetrics(runId, curve);
    const whole = await tracking.getMetricHistory(runId, 'loss', 12_000);
    expect(whole.truncated).toBe(false);
    expect(whole.points.map((point) => point.step)).toEqual(curve.map((point) => point.step));
    const cut = await tracking.getMetricHistory(runId, 'loss', 7_000);
    expect(cut.truncated).toBe(true);
    expect(cut.points).toHaveLength(7_000);
    expect(cut.points[0]).toEqual({ step: 0, value: 0, timestamp: 1_700_000_000_000 });
  });

  it('round-trips params, more than 100 at once, and truncates a very long value instead of failing', async () => {
    const { runId } = await tracking.startRun(experiment, 'params', {});
    const params = Object.fromEntries(Array.from({ length: 150 }, (_, index) => [`p${index}`, `value-${index}`]));
    const long = 'x'.repeat(9000) + 'tail';
    await tracking.logParams(runId, { ...params, long });
    await tracking.logParams(runId, { lr: '0.01' });
    const stored = (await tracking.getRun(runId))?.params ?? {};
    expect(stored).toMatchObject({ ...params, lr: '0.01' });
    expect(Object.keys(stored)).toHaveLength(152);
    expect(stored.long.length).toBeGreaterThan(1000);
    expect(stored.long.length).toBeLessThan(long.length);
    expect(long.startsWith(stored.long)).toBe(true);
  });

  it('accepts the same param value again but refuses to change a logged param', async () => {
    const { runId } = await tracking.startRun(experiment, 'immutable', {});
    await tracking.logParams(runId, { lr: '0.01' });
    await tracking.logParams(runId, { lr: '0.01' });
    await expect(tracking.logParams(runId, { lr: '0.02' })).rejects.toThrow(/param/i);
    expect((await tracking.getRun(runId))?.params).toEqual({ lr: '0.01' });
  });

  it('ends a run with the status it is given', async () => {
    const finished = await tracking.startRun(experiment, 'ok', {});
    const failed = await tracking.startRun(experiment, 'broken', {});
    await tracking.endRun(finished.runId, 'FINISHED');
    await tracking.endRun(failed.runId, 'FAILED');
    expect((await tracking.getRun(finished.runId))?.status).toBe('FINISHED');
    expect((await tracking.getRun(failed.runId))?.status).toBe('FAILED');
  });

  it('says undefined for a run it does not know', async () => {
    expect(await tracking.getRun('0123456789abcdef0123456789abcdef')).toBeUndefined();
  });

  it('refuses to log to a run it does not know', async () => {
    const unknown = 'fedcba9876543210fedcba9876543210';
    await expect(tracking.logParams(unknown, { a: '1' })).rejects.toThrow();
    await expect(tracking.logMetrics(unknown, [{ key: 'm', value: 1 }])).rejects.toThrow();
    await expect(tracking.endRun(unknown, 'FINISHED')).rejects.toThrow();
    await expect(tracking.logArtifact(unknown, 'a.txt', new Uint8Array([1]))).rejects.toThrow();
  });

  it('stores an artifact under a relative path and refuses one that leaves the run', async () => {
    const { runId } = await tracking.startRun(experiment, 'artifacts', {});
    await tracking.logArtifact(runId, 'outputs/metrics.json', new TextEncoder().encode('{"ok":true}'));
    await expect(tracking.logArtifact(runId, '../escape.txt', new Uint8Array([1]))).rejects.toThrow(/relative path/);
    await expect(tracking.logArtifact(runId, '/etc/passwd', new Uint8Array([1]))).rejects.toThrow(/relative path/);
  });
}
