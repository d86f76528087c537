import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { RedisLeaderboardAdapter } from '@app/adapters';
import { BoardEntry, RankOrder } from '@app/domain';

export interface SeedResult {
  entries: BoardEntry[];
  recordMs: number;
  replaceMs: number;
  counts: { users: number; jobs: number };
}

/** Scored jobs spread over `users` users, each with the benchmark's metric and one secondary score. */
export function boardEntries(benchmarkId: string, metric: string, secondary: string[], jobs: number, users: number): BoardEntry[] {
  const now = Date.now();
  return Array.from({ length: jobs }, (_, index) => {
    const score = 0.5 + Math.random() / 2;
    const scores = Object.fromEntries([[metric, score], ...secondary.map((name) => [name, Math.random()])]);
    return {
      benchmarkId,
      jobId: randomUUID(),
      userId: `user${String(index % users).padStart(4, '0')}`,
      submissionId: randomUUID(),
      score,
      scores,
      // Spread over 30 days, so ties are broken by a real finish time.
      finishedAt: new Date(now - Math.floor(Math.random() * 30 * 86_400_000)).toISOString(),
      runId: randomUUID().replace(/-/g, ''),
      experimentId: String(1 + (index % users)),
    };
  });
}

/**
 * Seeds a board the way the worker fills it: record() once per scored job through the real
 * RedisLeaderboardAdapter, `inFlight` at a time (the worker's slots record concurrently too). Then
 * times replace() with the same entries, the admin rebuild's write, which leaves the same board.
 */
export async function seedBoard(redis: Redis, prefix: string, order: RankOrder, entries: BoardEntry[], inFlight: number): Promise<SeedResult> {
  const board = new RedisLeaderboardAdapter(redis, prefix);
  const benchmarkId = entries[0].benchmarkId;
  let next = 0;
  const begin = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < entries.length) await board.record(entries[next++], order);
    }),
  );
  const recordMs = performance.now() - begin;
  const rebuild = performance.now();
  await board.replace(benchmarkId, order, entries);
  const replaceMs = performance.now() - rebuild;
  return { entries, recordMs, replaceMs, counts: await board.counts(benchmarkId) };
}
