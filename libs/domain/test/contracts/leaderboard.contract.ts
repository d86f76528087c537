import { BoardEntry, BoardQuery, LeaderboardPort, RankOrder } from '@app/domain';

const BEST: BoardQuery = { all: false, offset: 0, limit: 100 };
const ALL: BoardQuery = { all: true, offset: 0, limit: 100 };

/** A scored job finished `minute` minutes after a fixed start. */
function entry(jobId: string, userId: string, score: number, minute = 0, benchmarkId = 'digits'): BoardEntry {
  return {
    benchmarkId,
    jobId,
    userId,
    submissionId: `sub-${jobId}`,
    score,
    scores: { auc: score, ap: score / 2 },
    finishedAt: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(),
    runId: `run-${jobId}`,
    experimentId: '7',
  };
}

/** The board's rows as `job:rank`, which makes a failing ranking easy to read. */
async function ranking(board: LeaderboardPort, query: BoardQuery, benchmarkId = 'digits'): Promise<string[]> {
  const page = await board.page(benchmarkId, query);
  return page.rows.map((row) => `${row.jobId}:${row.rank}`);
}

/** What every LeaderboardPort promises. */
export function leaderboardContract(make: () => Promise<LeaderboardPort>): void {
  it('an empty or unknown board is an empty page with a total of 0', async () => {
    const board = await make();
    expect(await board.page('nobody-knows', BEST)).toEqual({ rows: [], total: 0 });
    expect(await board.page('nobody-knows', ALL)).toEqual({ rows: [], total: 0 });
    expect(await board.counts('nobody-knows')).toEqual({ users: 0, jobs: 0 });
  });

  it('ranks a higher score first for desc and a lower one first for asc', async () => {
    const desc = await make();
    const asc = await make();
    for (const [jobId, userId, score] of [['j1', 'alice', 0.5], ['j2', 'bob', 0.9], ['j3', 'carol', 0.7]] as const) {
      await desc.record(entry(jobId, userId, score), 'desc');
      await asc.record(entry(jobId, userId, score), 'asc');
    }
    expect(await ranking(desc, BEST)).toEqual(['j2:1', 'j3:2', 'j1:3']);
    expect(await ranking(asc, BEST)).toEqual(['j1:1', 'j3:2', 'j2:3']);
  });

  it('returns the snapshot as recorded, with rank added', async () => {
    const board = await make();
    const recorded = { ...entry('j1', 'alice', 0.1 + 0.2), runId: null, experimentId: null };
    await board.record(recorded, 'desc');
    expect((await board.page('digits', BEST)).rows).toEqual([{ ...recorded, rank: 1 }]);
  });

  it('keeps extreme doubles and -0 exactly, and orders them correctly', async () => {
    const board = await make();
    const scores = [Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, 1e-300, -1e300, 0.30000000000000004, 0.3];
    for (const [index, score] of scores.entries()) await board.record(entry(`j${index}`, `user${index}`, score), 'desc');
    await board.record({ ...entry('jz', 'zed', -0, 1), scores: { auc: -0, ap: 0 } }, 'desc');
    await board.record(entry('jp', 'pat', 0, 2), 'desc');
    const rows = (await board.page('digits', BEST)).rows;
    expect(rows.map((row) => row.score)).toEqual([...scores, -0, 0].sort((a, b) => b - a));
    const negativeZero = rows.find((row) => row.jobId === 'jz');
    expect(Object.is(negativeZero?.score, -0)).toBe(true);
    expect(Object.is(negativeZero?.scores.auc, -0)).toBe(true);
    expect(Object.is(negativeZero?.scores.ap, 0)).toBe(true);
    // -0 and 0 are the same score: the earlier finish ranks first.
    expect(rows.findIndex((row) => row.jobId === 'jz')).toBeLessThan(rows.findIndex((row) => row.jobId === 'jp'));
  });

  it('breaks ties by the earlier finish, then by the job id', async () => {
    const board = await make();
    await board.record(entry('late', 'alice', 0.8, 30), 'desc');
    await board.record(entry('early', 'bob', 0.8, 10), 'desc');
    await board.record(entry('b-same', 'carol', 0.8, 20), 'desc');
    await board.record(entry('a-same', 'dave', 0.8, 20), 'desc');
    expect(await ranking(board, BEST)).toEqual(['early:1', 'a-same:2', 'b-same:3', 'late:4']);
  });

  it('shows each user once, with their best job; all=true shows every job', async () => {
    const board = await make();
    await board.record(entry('a1', 'alice', 0.6, 1), 'desc');
    await board.record(entry('a2', 'alice', 0.95, 2), 'desc');
    await board.record(entry('b1', 'bob', 0.8, 3), 'desc');
    await board.record(entry('a3', 'alice', 0.7, 4), 'desc');
    expect(await ranking(board, BEST)).toEqual(['a2:1', 'b1:2']);
    expect(await ranking(board, ALL)).toEqual(['a2:1', 'b1:2', 'a3:3', 'a1:4']);
    expect(await board.counts('digits')).toEqual({ users: 2, jobs: 4 });
  });

  it("keeps a user's best when a later job is worse or only equal", async () => {
    const board = await make();
    await board.record(entry('first', 'alice', 0.9, 1), 'asc');
    await board.record(entry('worse', 'alice', 1.5, 2), 'asc');
    await board.record(entry('equal', 'alice', 0.9, 3), 'asc');
    expect(await ranking(board, BEST)).toEqual(['first:1']);
    await board.record(entry('better', 'alice', 0.2, 4), 'asc');
    expect(await ranking(board, BEST)).toEqual(['better:1']);
  });

  it('recording a job again replaces its entry', async () => {
    const board = await make();
    await board.record(entry('j1', 'alice', 0.5, 1), 'desc');
    await board.record(entry('j2', 'bob', 0.7, 1), 'desc');
    await board.record(entry('j1', 'alice', 0.9, 5), 'desc');
    const page = await board.page('digits', ALL);
    expect(page.rows.map((row) => [row.jobId, row.score, row.finishedAt])).toEqual([
      ['j1', 0.9, entry('j1', 'alice', 0.9, 5).finishedAt],
      ['j2', 0.7, entry('j2', 'bob', 0.7, 1).finishedAt],
    ]);
    expect(page.total).toBe(2);
    expect(await board.counts('digits')).toEqual({ users: 2, jobs: 2 });
  });

  it("falls back to the user's next best job when their best is recorded again with a worse score", async () => {
    const board = await make();
    await board.record(entry('a1', 'alice', 0.9, 1), 'desc');
    await board.record(entry('a2', 'alice', 0.7, 2), 'desc');
    await board.record(entry('b1', 'bob', 0.8, 3), 'desc');
    await board.record(entry('a1', 'alice', 0.1, 1), 'desc');
    expect(await ranking(board, BEST)).toEqual(['b1:1', 'a2:2']);
    expect(await ranking(board, ALL)).toEqual(['b1:1', 'a2:2', 'a1:3']);
    await board.record(entry('a1', 'alice', 0.85, 1), 'desc');
    expect(await ranking(board, BEST)).toEqual(['a1:1', 'b1:2']);
    expect(await board.counts('digits')).toEqual({ users: 2, jobs: 3 });
  });

  it("moves a user's best on the board when it is recorded again with a new score and stays their best", async () => {
    const board = await make();
    await board.record(entry('a1', 'alice', 0.9, 1), 'desc');
    await board.record(entry('a2', 'alice', 0.2, 2), 'desc');
    await board.record(entry('b1', 'bob', 0.5, 3), 'desc');
    await board.record(entry('a1', 'alice', 0.3, 1), 'desc');
    expect(await ranking(board, BEST)).toEqual(['b1:1', 'a1:2']);
    expect((await board.page('digits', BEST)).rows[1].score).toBe(0.3);
  });

  it('a job recorded again under another user leaves the first user', async () => {
    const board = await make();
    await board.record(entry('j1', 'alice', 0.9), 'desc');
    await board.record(entry('j1', 'bob', 0.9), 'desc');
    expect((await board.page('digits', BEST)).rows.map((row) => row.userId)).toEqual(['bob']);
    expect(await board.counts('digits')).toEqual({ users: 1, jobs: 1 });
  });

  it('pages with offset and limit, ranks counting from the offset, with the full total', async () => {
    const board = await make();
    for (let index = 0; index < 7; index += 1) await board.record(entry(`j${index}`, `user${index}`, index / 10), 'desc');
    expect(await board.page('digits', { all: false, offset: 2, limit: 3 })).toMatchObject({ total: 7 });
    expect(await ranking(board, { all: false, offset: 2, limit: 3 })).toEqual(['j4:3', 'j3:4', 'j2:5']);
    expect(await ranking(board, { all: true, offset: 5, limit: 10 })).toEqual(['j1:6', 'j0:7']);
    expect(await board.page('digits', { all: false, offset: 7, limit: 10 })).toEqual({ rows: [], total: 7 });
    expect(await board.page('digits', { all: false, offset: 1000, limit: 10 })).toEqual({ rows: [], total: 7 });
  });

  it('keeps one board per benchmark', async () => {
    const board = await make();
    await board.record(entry('j1', 'alice', 0.5, 0, 'digits'), 'desc');
    await board.record(entry('j2', 'alice', 0.1, 0, 'letters'), 'asc');
    expect(await ranking(board, ALL, 'digits')).toEqual(['j1:1']);
    expect(await ranking(board, ALL, 'letters')).toEqual(['j2:1']);
    expect(await board.counts('letters')).toEqual({ users: 1, jobs: 1 });
  });

  it('replace swaps in exactly the given entries and leaves other boards alone', async () => {
    const board = await make();
    await board.record(entry('old1', 'alice', 0.5), 'desc');
    await board.record(entry('old2', 'zoe', 0.6), 'desc');
    await board.record(entry('other', 'alice', 0.5, 0, 'letters'), 'desc');
    await board.replace('digits', 'asc', [entry('n1', 'alice', 0.3, 1), entry('n2', 'bob', 0.2, 2), entry('n3', 'alice', 0.1, 3)]);
    expect(await ranking(board, BEST)).toEqual(['n3:1', 'n2:2']);
    expect(await ranking(board, ALL)).toEqual(['n3:1', 'n2:2', 'n1:3']);
    expect(await board.counts('digits')).toEqual({ users: 2, jobs: 3 });
    expect(await ranking(board, ALL, 'letters')).toEqual(['other:1']);
    await board.record(entry('n1', 'alice', 0.05, 1), 'asc');
    expect(await ranking(board, BEST)).toEqual(['n1:1', 'n2:2']);
    await board.replace('digits', 'asc', []);
    expect(await board.page('digits', ALL)).toEqual({ rows: [], total: 0 });
    expect(await board.counts('digits')).toEqual({ users: 0, jobs: 0 });
  });

  it('readers see the old board or the new one while replace runs, never a part', async () => {
    const board = await make();
    const before = Array.from({ length: 30 }, (_, index) => entry(`old${index}`, `user${index}`, index));
    await board.replace('digits', 'desc', before);
    const after = Array.from({ length: 1200 }, (_, index) => entry(`new${index}`, `user${index % 400}`, index % 97, index % 13));
    let replaced = false;
    const replacing = board.replace('digits', 'desc', after).then(() => {
      replaced = true;
    });
    const seen = new Set<string>();
    while (!replaced) {
      const [page, counts] = await Promise.all([board.page('digits', { all: true, offset: 0, limit: 1 }), board.counts('digits')]);
      seen.add(`${page.total}/${counts.jobs}/${counts.users}`);
    }
    await replacing;
    for (const state of seen) expect(['30/30/30', '1200/1200/400']).toContain(state);
    expect(await board.counts('digits')).toEqual({ users: 400, jobs: 1200 });
  });

  it('stays correct with many jobs and users, ties included', async () => {
    const board = await make();
    const entries: BoardEntry[] = [];
    let seed = 7;
    const next = (modulo: number) => {
      seed = (seed * 48271) % 2147483647;
      return seed % modulo;
    };
    for (let index = 0; index < 1000; index += 1) {
      entries.push(entry(`job${String(index).padStart(4, '0')}`, `user${next(150)}`, next(50) / 7, next(20)));
    }
    for (const item of entries) await board.record(item, 'asc');
    // Re-record a tenth of the jobs with new scores, as a rescoring would.
    for (let index = 0; index < 1000; index += 10) {
      entries[index] = { ...entries[index], score: next(50) / 7 };
      await board.record(entries[index], 'asc');
    }
    const expectedAll = [...entries].sort(referenceOrder('asc'));
    const seenUsers = new Set<string>();
    const expectedBest = expectedAll.filter((item) => !seenUsers.has(item.userId) && seenUsers.add(item.userId));

    for (const [query, expected] of [[ALL, expectedAll], [BEST, expectedBest]] as const) {
      const jobIds: string[] = [];
      for (let offset = 0; ; offset += 97) {
        const page = await board.page('digits', { ...query, offset, limit: 97 });
        expect(page.total).toBe(expected.length);
        page.rows.forEach((row, index) => expect(row.rank).toBe(offset + index + 1));
        jobIds.push(...page.rows.map((row) => row.jobId));
        if (page.rows.length < 97) break;
      }
      expect(jobIds).toEqual(expected.map((item) => item.jobId));
    }
    expect(await board.counts('digits')).toEqual({ users: expectedBest.length, jobs: 1000 });
  });

  it('a burst of parallel records for one user keeps exactly their best', async () => {
    const board = await make();
    const entries = Array.from({ length: 50 }, (_, index) => entry(`j${index}`, 'alice', (index * 37) % 50, index));
    await Promise.all(entries.map((item) => board.record(item, 'desc')));
    expect(await ranking(board, BEST)).toEqual(['j27:1']);
    expect(await board.counts('digits')).toEqual({ users: 1, jobs: 50 });
  });
}

/** The rank order written out independently of any port: score, then finish, then job id. */
function referenceOrder(order: RankOrder): (a: BoardEntry, b: BoardEntry) => number {
  return (a, b) => {
    if (a.score !== b.score) return (a.score < b.score) === (order === 'asc') ? -1 : 1;
    if (a.finishedAt !== b.finishedAt) return a.finishedAt < b.finishedAt ? -1 : 1;
    return a.jobId < b.jobId ? -1 : 1;
  };
}
