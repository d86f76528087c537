import { useState } from 'preact/hooks';
import { settle } from '../api-result';
import { ErrorNote } from '../components/error-note';
import { formatTime } from '../components/line-chart';
import { isFinal, JobActions, StatusBadge } from '../job-actions';
import { href } from '../router';
import type { Session } from '../session';
import { useApi } from '../use-api';
import { usePolling } from '../use-polling';
import { Pager } from './board';

const PAGE_SIZE = 20;

/** The caller's jobs, newest first; statuses refresh every 2 s while any on the page is unfinished. */
export function JobsPage({ session }: { session: Session }) {
  const [offset, setOffset] = useState(0);
  const { result, reload } = useApi(() => settle(session.client.GET('/jobs', { params: { query: { offset, limit: PAGE_SIZE } } })), [session, offset]);
  const jobs = result?.ok ? result.data.jobs : [];
  usePolling(jobs.some((job) => !isFinal(job.status)), reload);

  return (
    <>
      <h1>My jobs</h1>
      {!result && <p class="muted">Loading…</p>}
      {result && !result.ok && <ErrorNote action="Loading your jobs" message={result.message} />}
      {result?.ok && result.data.total === 0 && (
        <p>
          No jobs yet. <a href={href.submit()}>Submit one</a>.
        </p>
      )}
      {jobs.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Your jobs</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Status</th>
                <th scope="col">Benchmark</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((job) => (
                <tr key={job.job_id} data-job-id={job.job_id}>
                  <td>
                    <a href={href.job(job.job_id)}>{job.job_id.slice(0, 8)}</a> <span class="muted">{job.entrypoint}</span>
                  </td>
                  <td>
                    <StatusBadge status={job.status} />
                  </td>
                  <td>{job.benchmark ? <a href={href.board(job.benchmark)}>{job.benchmark}</a> : <span class="muted">none</span>}</td>
                  <td>{formatTime(job.created_at)}</td>
                  <td>
                    <JobActions session={session} job={job} onChanged={reload} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {result?.ok && <Pager offset={result.data.offset} limit={result.data.limit} total={result.data.total} onChange={setOffset} />}
    </>
  );
}
