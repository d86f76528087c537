import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { BoardEntry, BoardPage, BoardQuery, LeaderboardPort, RankOrder, Scores } from '@app/domain';
import { PAGE_ENTRIES, RECORD_ENTRY, SWAP_BOARD } from './leaderboard-scripts';
import { redisCall } from './redis-client';

/** A board built for replace() is thrown away by Redis if the process dies before swapping it in. */
const BUILD_TTL_SECONDS = 3600;
const BUILD_BATCH = 500;

/**
 * Ranked snapshots in Redis, one board per benchmark under `{prefix}:board:{id}`:
 * `:entries` (hash job id -> entry JSON), `:jobs` (hash job id -> its member and user),
 * `:all` (zset, every scored job), `:best` (zset, each user's best job), `:best-of` (hash user ->
 * member of their best) and `:user:{user}` (zset, that user's jobs). Zset scores are the metric,
 * negated for `desc`, so ascending order is rank order. The keys never expire: the board is the
 * official record of scored jobs and outlives the 90-day job hashes.
 */
export class RedisLeaderboardAdapter extends LeaderboardPort {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    super();
  }

  async record(entry: BoardEntry, order: RankOrder): Promise<void> {
    await redisCall(() => this.redis.eval(RECORD_ENTRY, 0, ...recordArguments(this.boardKey(entry.benchmarkId), entry, order, 0)));
  }

  async page(benchmarkId: string, query: BoardQuery): Promise<BoardPage> {
    const reply = (await redisCall(() =>
      this.redis.eval(PAGE_ENTRIES, 0, this.boardKey(benchmarkId), query.all ? 'all' : 'best', query.offset, query.limit),
    )) as [number, ...string[]];
    const [total, ...stored] = reply;
    const rows = stored
      .filter((text) => text !== '')
      .map((text, index) => ({ ...decodeEntry(text), rank: query.offset + index + 1 }));
    return { rows, total };
  }

  async counts(benchmarkId: string): Promise<{ users: number; jobs: number }> {
    const base = this.boardKey(benchmarkId);
    const [users, jobs] = await redisCall(() => Promise.all([this.redis.zcard(`${base}:best`), this.redis.zcard(`${base}:all`)]));
    return { users, jobs };
  }

  /**
   * Builds the new board beside the live one with the same script record() uses, then swaps it in
   * with one script. A record() that lands between the two is lost with the old board; a rebuild
   * reads the jobs again if that matters.
   */
  async replace(benchmarkId: string, order: RankOrder, entries: BoardEntry[]): Promise<void> {
    const built = `${this.prefix}:board-build:${randomBytes(8).toString('hex')}`;
    for (let start = 0; start < entries.length; start += BUILD_BATCH) {
      const pipeline = this.redis.pipeline();
      for (const entry of entries.slice(start, start + BUILD_BATCH)) {
        pipeline.eval(RECORD_ENTRY, 0, ...recordArguments(built, { ...entry, benchmarkId }, order, BUILD_TTL_SECONDS));
      }
      const replies = (await redisCall(() => pipeline.exec())) ?? [];
      const failure = replies.find(([error]) => error);
      if (failure) throw failure[0];
    }
    await redisCall(() => this.redis.eval(SWAP_BOARD, 0, this.boardKey(benchmarkId), built));
  }

  private boardKey(benchmarkId: string): string {
    return `${this.prefix}:board:${benchmarkId}`;
  }
}

function recordArguments(base: string, entry: BoardEntry, order: RankOrder, ttlSeconds: number): string[] {
  const score = order === 'desc' ? -entry.score : entry.score;
  return [base, entry.jobId, entry.userId, String(score), memberOf(entry), encodeEntry(entry), String(ttlSeconds)];
}

/** `{finish ms, 15 digits}:{job id}`; the scripts rely on the 15 digits (see leaderboard-scripts.ts). */
function memberOf(entry: BoardEntry): string {
  const finished = Date.parse(entry.finishedAt);
  const milliseconds = Number.isFinite(finished) ? Math.min(Math.max(finished, 0), 999_999_999_999_999) : 0;
  return `${String(milliseconds).padStart(15, '0')}:${entry.jobId}`;
}

/** JSON, except that -0 is written as the string "-0": JSON.stringify would turn it into 0. */
function encodeEntry(entry: BoardEntry): string {
  const { benchmarkId, jobId, userId, submissionId, finishedAt, runId, experimentId } = entry;
  const scores = Object.fromEntries(Object.entries(entry.scores).map(([name, value]) => [name, encodeNumber(value)]));
  return JSON.stringify({ benchmarkId, jobId, userId, submissionId, score: encodeNumber(entry.score), scores, finishedAt, runId, experimentId });
}

function decodeEntry(text: string): BoardEntry {
  const stored = JSON.parse(text) as BoardEntry & { score: number | string; scores: Record<string, number | string> };
  const scores: Scores = Object.fromEntries(Object.entries(stored.scores).map(([name, value]) => [name, decodeNumber(value)]));
  return { ...stored, score: decodeNumber(stored.score), scores };
}

function encodeNumber(value: number): number | string {
  return Object.is(value, -0) ? '-0' : value;
}

function decodeNumber(value: number | string): number {
  return value === '-0' ? -0 : Number(value);
}
