import { settle } from '../api-result';
import { ErrorNote } from '../components/error-note';
import { href } from '../router';
import type { Session } from '../session';
import { useApi } from '../use-api';

export function BenchmarksPage({ session }: { session: Session }) {
  const { result } = useApi(() => settle(session.client.GET('/benchmarks')), [session]);
  return (
    <>
      <h1>Benchmarks</h1>
      {!result && <p class="muted">Loading…</p>}
      {result && !result.ok && <ErrorNote action="Loading the benchmarks" message={result.message} />}
      {result?.ok && result.data.benchmarks.length === 0 && <p>No benchmarks are configured on this server.</p>}
      {result?.ok && (
        <ul class="cards">
          {result.data.benchmarks.map((benchmark) => (
            <li key={benchmark.id} class="card">
              <h2>
                <a href={href.board(benchmark.id)}>{benchmark.title ?? benchmark.id}</a>
              </h2>
              {benchmark.available ? (
                <>
                  <p>{benchmark.description}</p>
                  <p class="muted">
                    Ranked by <code>{benchmark.metric}</code> ({benchmark.order === 'asc' ? 'lower is better' : 'higher is better'}) ·{' '}
                    {benchmark.ranked_jobs} ranked job{benchmark.ranked_jobs === 1 ? '' : 's'} from {benchmark.ranked_users} user
                    {benchmark.ranked_users === 1 ? '' : 's'}
                  </p>
                </>
              ) : (
                <p class="error">Unavailable: {benchmark.problem}</p>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
