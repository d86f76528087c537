import Redis from 'ioredis';
import { appendFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { RedisJobStatusAdapter } from '@app/adapters';
import { logText, openSse, SseStream } from '../../apps/api/test/sse-reader';
import { ApiProcess } from './api-process';
import { cpuSnapshot } from './cpu';
import { fmt, table, verdict } from './stats';

export interface FollowersSettings {
  /** Seconds the simulated job writes its log in each round. */
  seconds: number;
  /** Follower counts, one round each (0: the tailer-free baseline of an idle API). */
  counts: number[];
  linesPerSecond: number;
}

interface Round {
  followers: number;
  seconds: number;
  lines: number;
  bytesWritten: number;
  bytesDelivered: number;
  cpuMsPerSecond: number;
  complete: number;
  ended: number;
}

/** One log line of about 100 bytes, with a non-ASCII character and a carriage return like real progress output. */
function logLine(index: number): string {
  return `step ${String(index).padStart(6, '0')} loss=${(1 / (index + 1)).toFixed(6)} ü ${'#'.repeat(index % 40)}\r done\n`;
}

/**
 * `followers`: N clients follow one chatty job's log (GET /jobs/{id}/logs?follow=true). The job is
 * simulated: its record is set running in Redis and this process appends to its log file, then
 * marks it completed. Measures the API process's CPU while the log grows, and checks that every
 * follower got every byte, in order, and the end event.
 */
export async function followersScenario(
  redis: Redis,
  prefix: string,
  api: ApiProcess,
  authHeader: Record<string, string>,
  submissionId: string,
  logRoot: string,
  settings: FollowersSettings,
  problems: string[],
  log: (line?: string) => void,
): Promise<string> {
  const status = new RedisJobStatusAdapter(redis, prefix);
  const rounds: Round[] = [];
  for (const [index, count] of settings.counts.entries()) {
    const response = await fetch(`${api.url}/jobs`, {
      method: 'POST',
      headers: { ...authHeader, 'Content-Type': 'application/json', 'Idempotency-Key': `followers-${index}-${count}` },
      body: JSON.stringify({ submission_id: submissionId }),
    });
    if (response.status !== 202) throw new Error(`followers: POST /jobs answered ${response.status}: ${await response.text()}`);
    const jobId = ((await response.json()) as { job_id: string }).job_id;
    const logPath = path.join(logRoot, `${jobId}.log`);
    await writeFile(logPath, '');
    await status.update(jobId, { status: 'running', startedAt: new Date().toISOString() });

    const streams: SseStream[] = [];
    for (let follower = 0; follower < count; follower++) {
      const stream = await openSse(api.url, `/jobs/${jobId}/logs?follow=true`, authHeader);
      if (stream.status !== 200) throw new Error(`followers: follow answered ${stream.status}: ${stream.text()}`);
      streams.push(stream);
    }
    // Let the tailer start before measuring.
    await new Promise((resolve) => setTimeout(resolve, 500));

    let written = '';
    let line = 0;
    const before = await cpuSnapshot(redis, api.pid);
    const deadline = performance.now() + settings.seconds * 1000;
    const perTick = Math.max(1, Math.round(settings.linesPerSecond / 50));
    while (performance.now() < deadline) {
      let batch = '';
      for (let each = 0; each < perTick; each++) batch += logLine(line++);
      await appendFile(logPath, batch);
      written += batch;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Everything written so far reached every follower before the CPU window closes.
    const bytesWritten = Buffer.byteLength(written);
    const caughtUp = performance.now() + 10_000;
    // A log event's id is the byte offset after it.
    while (streams.some((stream) => Number(stream.events.at(-1)?.id ?? 0) < bytesWritten) && performance.now() < caughtUp) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const after = await cpuSnapshot(redis, api.pid);
    const seconds = (after.at - before.at) / 1000;

    await status.update(jobId, { status: 'completed', finishedAt: new Date().toISOString() });
    await Promise.race([Promise.all(streams.map((stream) => stream.ended)), new Promise((resolve) => setTimeout(resolve, 10_000))]);
    const complete = streams.filter((stream) => logText(stream) === written).length;
    const ended = streams.filter((stream) => stream.events.at(-1)?.event === 'end' && JSON.parse(stream.events.at(-1)!.data).status === 'completed').length;
    for (const stream of streams) stream.close();
    if (complete !== count || ended !== count) {
      problems.push(`followers (${count}): ${complete} of ${count} got every byte in order, ${ended} got the end event`);
    }
    rounds.push({
      followers: count,
      seconds,
      lines: line,
      bytesWritten,
      bytesDelivered: streams.reduce((sum, stream) => sum + Buffer.byteLength(logText(stream)), 0),
      cpuMsPerSecond: ((after.api - before.api) * 1000) / seconds,
      complete,
      ended,
    });
  }

  log(`### Live log followers: GET /jobs/{id}/logs?follow=true on one chatty job (lines appended every 20 ms for ${settings.seconds} s)`);
  log();
  log(
    table([
      ['followers', 'window s', 'log lines', 'log bytes', 'bytes delivered', 'API CPU ms/s', 'got every byte', 'got end'],
      ...rounds.map((round) => [
        String(round.followers),
        fmt(round.seconds),
        String(round.lines),
        String(round.bytesWritten),
        String(round.bytesDelivered),
        fmt(round.cpuMsPerSecond),
        `${round.complete}/${round.followers}`,
        `${round.ended}/${round.followers}`,
      ]),
    ]),
  );
  log();
  log('- API CPU: user+sys of the API process from /proc/<pid>/stat over the window (writing, then until every follower had every byte)');
  const one = rounds.find((round) => round.followers === 1);
  const most = rounds.at(-1);
  const allGood = rounds.every((round) => round.complete === round.followers && round.ended === round.followers);
  const ratio = one && most && most !== one ? ` (${fmt(most.cpuMsPerSecond / one.cpuMsPerSecond, 1)}x the CPU for ${most.followers}x the followers)` : '';
  const line = `${verdict(allGood)}  live log followers: ${rounds.map((round) => `${round.followers} -> ${fmt(round.cpuMsPerSecond)} ms CPU/s`).join(', ')}${ratio}; every follower got every byte: ${allGood ? 'yes' : 'NO'}`;
  log(`- ${line}`);
  log();
  return line;
}
