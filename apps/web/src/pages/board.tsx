import { useState } from 'preact/hooks';
import { apiMessage, type Schema } from '@app/client';
import { settle, type ApiResult } from '../api-result';
import { bestOverTime } from '../chart-geometry';
import { ErrorNote } from '../components/error-note';
import { formatNumber, formatTime, LineChart } from '../components/line-chart';
import { href } from '../router';
import { safeHttpUrl } from '../safe-link';
import type { Session } from '../session';
import { useApi } from '../use-api';

const PAGE_SIZE = 20;
/** The chart reads every scored job at once; the API's largest page. */
const CHART_ROWS = 1000;

/** The JSON board (the route also answers CSV, which this never asks for). */
async function loadBoard(session: Session, benchmarkId: string, query: { all: boolean; limit: number; offset: number }): Promise<ApiResult<Schema<'LeaderboardResponse'>>> {
  const answer = await settle(
    session.client.GET('/benchmarks/{id}/leaderboard', { params: { path: { id: benchmarkId }, query: { ...query, all: query.all ? 'true' : 'false' } } }),
  );
  if (answer.ok && typeof answer.data === 'string') return { ok: false, status: 200, message: 'the API answered CSV where JSON was asked for' };
  return answer as ApiResult<Schema<'LeaderboardResponse'>>;
}

export function BoardPage({ session, benchmarkId }: { session: Session; benchmarkId: string }) {
  const [all, setAll] = useState(false);
  const [offset, setOffset] = useState(0);
  const [downloadError, setDownloadError] = useState<string>();
  const path = { id: benchmarkId };
  const { result } = useApi(() => loadBoard(session, benchmarkId, { all, limit: PAGE_SIZE, offset }), [session, benchmarkId, all, offset]);
  const { result: history } = useApi(() => loadBoard(session, benchmarkId, { all: true, limit: CHART_ROWS, offset: 0 }), [session, benchmarkId]);

  async function downloadCsv() {
    setDownloadError(undefined);
    try {
      // A plain link cannot send the Authorization header: fetch, then hand the browser a Blob.
      const { data, error, response } = await session.client.GET('/benchmarks/{id}/leaderboard', {
        params: { path, query: { all: all ? 'true' : 'false', limit: CHART_ROWS, format: 'csv' } },
        parseAs: 'blob',
      });
      if (!response.ok || !data) {
        setDownloadError(apiMessage(error, `the API answered ${response.status}`));
        return;
      }
      const url = URL.createObjectURL(data);
      const link = document.createElement('a');
      link.href = url;
      link.download = `${benchmarkId}-leaderboard${all ? '-all' : ''}.csv`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      setDownloadError(`could not reach the API (${error instanceof Error ? error.message : String(error)})`);
    }
  }

  const board = result?.ok ? result.data : undefined;
  const benchmark = board?.benchmark ?? (history?.ok ? history.data.benchmark : undefined);
  return (
    <>
      <p>
        <a href={href.benchmarks()}>← All benchmarks</a>
      </p>
      <h1>{benchmark?.title ?? benchmarkId}</h1>
      {benchmark?.description && <p>{benchmark.description}</p>}
      {benchmark?.metric && (
        <p class="muted">
          Ranked by the official score <code>{benchmark.metric}</code> ({benchmark.order === 'asc' ? 'lower is better' : 'higher is better'}).
        </p>
      )}
      <div class="toolbar" role="group" aria-label="Board view">
        <button type="button" aria-pressed={!all} onClick={() => (setAll(false), setOffset(0))}>
          Best per user
        </button>
        <button type="button" aria-pressed={all} onClick={() => (setAll(true), setOffset(0))}>
          All scored jobs
        </button>
        <button type="button" onClick={downloadCsv}>
          Download CSV
        </button>
      </div>
      <ErrorNote action="Downloading the CSV" message={downloadError} />
      {!result && <p class="muted">Loading…</p>}
      {result && !result.ok && <ErrorNote action="Loading the leaderboard" message={result.message} />}
      {board && board.rows.length === 0 && <p>No scored jobs yet. Submit one to be the first on the board.</p>}
      {board && board.rows.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Leaderboard of {benchmarkId}</caption>
            <thead>
              <tr>
                <th scope="col">Rank</th>
                <th scope="col">User</th>
                <th scope="col">{board.benchmark.metric ?? 'Score'}</th>
                {(board.benchmark.secondary ?? []).map((name) => (
                  <th scope="col" key={name}>
                    {name}
                  </th>
                ))}
                <th scope="col">Finished</th>
                <th scope="col">Job</th>
              </tr>
            </thead>
            <tbody>
              {board.rows.map((row) => {
                const own = row.user_id === session.user;
                const mlflow = safeHttpUrl(row.mlflow_run_link);
                return (
                  <tr key={row.job_id} class={own ? 'own' : undefined} data-job-id={row.job_id}>
                    <td>{row.rank}</td>
                    <td>
                      {row.user_id}
                      {own && <span class="badge">you</span>}
                    </td>
                    <td class="number">{formatNumber(row.score)}</td>
                    {(board.benchmark.secondary ?? []).map((name) => (
                      <td class="number" key={name}>
                        {formatNumber(row.secondary[name])}
                      </td>
                    ))}
                    <td>{formatTime(row.finished_at)}</td>
                    <td>
                      {own ? <a href={href.job(row.job_id)}>{row.job_id.slice(0, 8)}</a> : <span title={row.job_id}>{row.job_id.slice(0, 8)}</span>}
                      {own && mlflow && (
                        <>
                          {' · '}
                          <a href={mlflow} target="_blank" rel="noopener noreferrer">
                            MLflow
                          </a>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {board && (
        <Pager offset={board.offset} limit={board.limit} total={board.total} onChange={setOffset} />
      )}
      <h2>Best score over time</h2>
      {history && !history.ok && <ErrorNote action="Loading the score history" message={history.message} />}
      {history?.ok && (
        <LineChart
          step
          label={`Best ${history.data.benchmark.metric ?? 'score'} over time`}
          points={bestOverTime(history.data.rows, history.data.benchmark.order ?? 'desc')}
          formatX={(x) => formatTime(x)}
        />
      )}
    </>
  );
}

export function Pager({ offset, limit, total, onChange }: { offset: number; limit: number; total: number; onChange: (offset: number) => void }) {
  if (total <= limit && offset === 0) return null;
  const last = Math.min(offset + limit, total);
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled={offset === 0} onClick={() => onChange(Math.max(0, offset - limit))}>
        ← Previous
      </button>
      <span>
        {total === 0 ? 0 : offset + 1}–{last} of {total}
      </span>
      <button type="button" disabled={last >= total} onClick={() => onChange(offset + limit)}>
        Next →
      </button>
    </nav>
  );
}
