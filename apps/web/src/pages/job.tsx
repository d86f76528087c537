import { useEffect, useRef, useState } from 'preact/hooks';
import type { Schema } from '@app/client';
import { settle } from '../api-result';
import { ErrorNote } from '../components/error-note';
import { formatNumber, formatTime, LineChart } from '../components/line-chart';
import { isFinal, JobActions, StatusBadge } from '../job-actions';
import { followLog } from '../log-follower';
import { href } from '../router';
import { safeHttpUrl } from '../safe-link';
import type { Session } from '../session';
import { useApi } from '../use-api';
import { usePolling } from '../use-polling';

/** Enough log for a page; older text is dropped from the view (the whole log stays on the API). */
const MAX_LOG_CHARS = 2_000_000;

export function JobPage({ session, jobId }: { session: Session; jobId: string }) {
  const path = { id: jobId };
  const { result, reload } = useApi(() => settle(session.client.GET('/jobs/{id}/status', { params: { path } })), [session, jobId]);
  const job = result?.ok ? result.data : undefined;
  const final = job ? isFinal(job.status) : false;
  usePolling(Boolean(job) && !final, reload);

  if (!result) return <p class="muted">Loading job {jobId}…</p>;
  if (!result.ok) {
    return (
      <>
        <h1>Job {jobId}</h1>
        <ErrorNote action={`Opening job ${jobId}`} message={result.message} />
        <p>
          <a href={href.jobs()}>Back to my jobs</a>
        </p>
      </>
    );
  }
  return <JobDetails session={session} job={result.data} final={final} onChanged={reload} />;
}

function JobDetails({ session, job, final, onChanged }: { session: Session; job: Schema<'JobResponse'>; final: boolean; onChanged: () => void }) {
  return (
    <>
      <p>
        <a href={href.jobs()}>← My jobs</a>
      </p>
      <h1>
        Job <span class="mono">{job.job_id}</span> <StatusBadge status={job.status} />
      </h1>
      <JobActions session={session} job={job} onChanged={onChanged} />
      {job.error_message && (
        <section class="error-box" aria-labelledby="job-error">
          <h2 id="job-error">Error</h2>
          <pre class="wrap">{job.error_message}</pre>
        </section>
      )}
      <dl class="facts">
        <dt>Entrypoint</dt>
        <dd class="mono">{job.entrypoint}</dd>
        <dt>Config file</dt>
        <dd class="mono">{job.config_file ?? 'none'}</dd>
        <dt>Resource class</dt>
        <dd>{job.resource_class}</dd>
        <dt>Benchmark</dt>
        <dd>{job.benchmark ? <a href={href.board(job.benchmark)}>{job.benchmark}</a> : 'none (a plain experiment)'}</dd>
        <dt>Submission</dt>
        <dd class="mono">{job.submission_id}</dd>
        <dt>Created · started · finished</dt>
        <dd>
          {formatTime(job.created_at)} · {formatTime(job.started_at)} · {formatTime(job.finished_at)}
        </dd>
      </dl>
      {Object.keys(job.config).length > 0 && (
        <details>
          <summary>Config overrides sent with the job</summary>
          <pre class="wrap">{JSON.stringify(job.config, null, 2)}</pre>
        </details>
      )}
      <section aria-labelledby="official-scores">
        <h2 id="official-scores">Official scores</h2>
        <p class="muted">Computed by the benchmark's scorer from the job's predictions; the leaderboard ranks these.</p>
        {job.scores ? <NumberTable values={job.scores} label="Official scores" /> : <p class="muted">{scoresNote(job)}</p>}
      </section>
      {job.run_id ? (
        // Read once now and once more when the job becomes final.
        <RunSection key={`${job.run_id}-${final}`} session={session} jobId={job.job_id} />
      ) : (
        <section aria-labelledby="reported-metrics">
          <h2 id="reported-metrics">Reported metrics (self-reported, not ranked)</h2>
          <p class="muted">The job has no MLflow run yet.</p>
        </section>
      )}
      <LiveLog session={session} jobId={job.job_id} onEnd={onChanged} />
    </>
  );
}

/** The MLflow side: run links, what the code reported, metric charts. A 503 here leaves the rest of the page working. */
function RunSection({ session, jobId }: { session: Session; jobId: string }) {
  const path = { id: jobId };
  const { result: results } = useApi(() => settle(session.client.GET('/jobs/{id}/results', { params: { path } })), [session, jobId]);
  const { result: metrics } = useApi(() => settle(session.client.GET('/jobs/{id}/metrics', { params: { path } })), [session, jobId]);
  const mlflow = results?.ok ? safeHttpUrl(results.data.mlflow_ui_link) : undefined;
  const reported = results?.ok ? results.data.reported_metrics : undefined;
  return (
    <section aria-labelledby="reported-metrics">
      <h2 id="reported-metrics">Reported metrics (self-reported, not ranked)</h2>
      <p class="muted">What the job's own code logged to its MLflow run.</p>
      {mlflow && (
        <p>
          <a href={mlflow} target="_blank" rel="noopener noreferrer">
            Open the run in MLflow
          </a>
          {' · '}
          <a href={`${mlflow.replace(/\/+$/, '')}/artifacts`} target="_blank" rel="noopener noreferrer">
            Artifacts
          </a>
        </p>
      )}
      {results && !results.ok && <ErrorNote action="Loading the MLflow results" message={results.message} />}
      {reported && Object.keys(reported).length > 0 && <NumberTable values={reported} label="Reported metrics" />}
      {reported && Object.keys(reported).length === 0 && <p class="muted">None logged.</p>}
      <h3>Metric history</h3>
      {!metrics && <p class="muted">Loading…</p>}
      {metrics && !metrics.ok && <ErrorNote action="Loading the metric charts" message={metrics.message} />}
      {metrics?.ok && Object.keys(metrics.data.metrics).length === 0 && <p class="muted">No metric history yet.</p>}
      {metrics?.ok && (
        <div class="charts">
          {Object.entries(metrics.data.metrics).map(([key, history]) => (
            <LineChart
              key={key}
              label={key.startsWith('leaderboard.') ? `${key} (official copy)` : key}
              points={history.flatMap((point) => (point.value === null ? [] : [{ x: point.step, y: point.value }]))}
              formatX={(x) => `step ${x}`}
            />
          ))}
        </div>
      )}
      {metrics?.ok && metrics.data.truncated.length + metrics.data.omitted.length > 0 && (
        <p class="muted">
          Cut short: {[...metrics.data.truncated, ...metrics.data.omitted].join(', ')} (see the full history in MLflow).
        </p>
      )}
    </section>
  );
}

function scoresNote(job: Schema<'JobResponse'>): string {
  if (!job.benchmark) return 'A plain experiment: not scored.';
  if (job.status === 'completed') return 'Not scored (see the error above, if any).';
  if (isFinal(job.status)) return 'Not scored: the job did not complete.';
  return 'Scored when the job completes.';
}

function NumberTable({ values, label }: { values: Record<string, number>; label: string }) {
  return (
    <table class="compact">
      <caption class="visually-hidden">{label}</caption>
      <tbody>
        {Object.entries(values).map(([key, value]) => (
          <tr key={key}>
            <th scope="row" class="mono">
              {key}
            </th>
            <td class="number">{formatNumber(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The log as text, followed live over SSE until the API says it ended. */
function LiveLog({ session, jobId, onEnd }: { session: Session; jobId: string; onEnd: () => void }) {
  const [text, setText] = useState('');
  const [state, setState] = useState<{ phase: 'following' | 'ended' | 'failed'; note?: string }>({ phase: 'following' });
  const logBox = useRef<HTMLPreElement>(null);
  const endRef = useRef(onEnd);
  endRef.current = onEnd;

  useEffect(() => {
    setText('');
    setState({ phase: 'following' });
    return followLog(jobId, session.token, {
      onText: (chunk) => {
        setText((previous) => (previous + chunk).slice(-MAX_LOG_CHARS));
        setState({ phase: 'following' });
      },
      onRestart: () => setText(''),
      onEnd: () => {
        setState({ phase: 'ended' });
        endRef.current();
      },
      onError: (message) => setState({ phase: 'failed', note: message }),
      onRetry: (message) => setState({ phase: 'following', note: message }),
    });
  }, [jobId, session.token]);

  useEffect(() => {
    const box = logBox.current;
    if (box) box.scrollTop = box.scrollHeight;
  }, [text]);

  return (
    <section aria-labelledby="job-log">
      <h2 id="job-log">Log</h2>
      <p class="muted" aria-live="polite">
        {state.phase === 'following' ? 'Following the live log…' : state.phase === 'ended' ? 'The log is complete.' : ''}
        {state.phase === 'following' && state.note ? ` (${state.note})` : ''}
      </p>
      {state.phase === 'failed' && <ErrorNote action="Following the log" message={state.note} />}
      <pre class="log" ref={logBox} tabIndex={0} aria-label="Job log">
        {text || (state.phase === 'ended' ? '(the job printed nothing)' : '')}
      </pre>
    </section>
  );
}
