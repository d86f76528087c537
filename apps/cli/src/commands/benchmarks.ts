import { call } from '../api-call';
import { CliContext } from '../context';
import { CliFailure, EXIT, ExitCode } from '../exit-codes';
import { formatNumber, printJson, printLine, printTable } from '../output';

export async function benchmarks(context: CliContext, options: { json?: boolean }): Promise<ExitCode> {
  const list = await call(context.baseUrl, () => context.client.GET('/benchmarks'));
  if (options.json) {
    printJson(list);
    return EXIT.completed;
  }
  printTable(
    ['BENCHMARK', 'METRIC', 'RANKED', 'TITLE'],
    list.benchmarks.map((benchmark) =>
      benchmark.available
        ? [benchmark.id, `${benchmark.metric} (${benchmark.order === 'asc' ? 'lower' : 'higher'} is better)`, `${benchmark.ranked_jobs} jobs, ${benchmark.ranked_users} users`, benchmark.title ?? '']
        : [benchmark.id, '-', '-', `unavailable: ${benchmark.problem}`],
    ),
  );
  return EXIT.completed;
}

export interface BoardOptions {
  all?: boolean;
  csv?: boolean;
  limit?: number;
  offset?: number;
  json?: boolean;
}

export async function board(context: CliContext, benchmarkId: string, options: BoardOptions): Promise<ExitCode> {
  const query = { limit: options.limit, offset: options.offset, ...(options.all ? { all: 'true' as const } : {}) };
  if (options.csv) {
    const csv = await call(context.baseUrl, () =>
      context.client.GET('/benchmarks/{id}/leaderboard', { params: { path: { id: benchmarkId }, query: { ...query, format: 'csv' } }, parseAs: 'text' }),
    );
    process.stdout.write(typeof csv === 'string' ? csv : '');
    return EXIT.completed;
  }
  const page = await call(context.baseUrl, () => context.client.GET('/benchmarks/{id}/leaderboard', { params: { path: { id: benchmarkId }, query } }));
  // The route documents CSV too; asked for JSON, a string means something answered in its place.
  if (typeof page === 'string') throw new CliFailure(`the leaderboard of ${benchmarkId} came back as text, not JSON`, EXIT.apiError);
  if (options.json) {
    printJson(page);
    return EXIT.completed;
  }
  const secondary = page.benchmark.secondary ?? [];
  printLine(`${page.benchmark.title ?? page.benchmark.id}: ranked by ${page.benchmark.metric} (${page.benchmark.order === 'asc' ? 'lower' : 'higher'} is better)${page.all ? ', every run' : ', best run per user'}`);
  printTable(
    ['RANK', 'USER', page.benchmark.metric ?? 'SCORE', ...secondary, 'FINISHED', 'JOB'],
    page.rows.map((row) => [String(row.rank), row.user_id, formatNumber(row.score), ...secondary.map((name) => formatNumber(row.secondary[name])), row.finished_at, row.job_id]),
  );
  if (page.total > page.offset + page.rows.length) printLine(`(${page.rows.length} of ${page.total}; next page: --offset ${page.offset + page.rows.length})`);
  return EXIT.completed;
}
