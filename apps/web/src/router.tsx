import { useEffect, useState } from 'preact/hooks';

/** Pages live in the URL hash (#/jobs/<id>), so the API serves only / and never meets a UI path. */
export type Route =
  | { page: 'benchmarks' }
  | { page: 'board'; benchmarkId: string }
  | { page: 'submit' }
  | { page: 'jobs' }
  | { page: 'job'; jobId: string }
  | { page: 'unknown'; hash: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'benchmarks')) return { page: 'benchmarks' };
  if (parts.length === 2 && parts[0] === 'benchmarks') return { page: 'board', benchmarkId: parts[1] };
  if (parts.length === 1 && parts[0] === 'submit') return { page: 'submit' };
  if (parts.length === 1 && parts[0] === 'jobs') return { page: 'jobs' };
  if (parts.length === 2 && parts[0] === 'jobs') return { page: 'job', jobId: parts[1] };
  return { page: 'unknown', hash };
}

export const href = {
  benchmarks: () => '#/benchmarks',
  board: (benchmarkId: string) => `#/benchmarks/${encodeURIComponent(benchmarkId)}`,
  submit: () => '#/submit',
  jobs: () => '#/jobs',
  job: (jobId: string) => `#/jobs/${encodeURIComponent(jobId)}`,
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
