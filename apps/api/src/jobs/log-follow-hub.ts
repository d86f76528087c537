import { BeforeApplicationShutdown } from '@nestjs/common';
import { isFinal, Job, JobStatusPort, LOG_FOLLOWER_LIMITS, RateLimited, StoragePort } from '@app/domain';

/** What a follower is sent, in order; the transport (SSE) formats it. */
export type LogEvent =
  | { kind: 'log'; text: string; nextOffset: number }
  /** A new attempt of the job truncated the log: it starts over from offset 0. */
  | { kind: 'restart' }
  | { kind: 'end'; job: Job | undefined; offset: number }
  | { kind: 'heartbeat' };

export interface LogFollower {
  /** Queues an event; false when the client is too far behind (it is then dropped). */
  send(event: LogEvent): boolean;
  /** Ends the stream (after `end`, on shutdown, or when the client is dropped). */
  close(): void;
}

export interface LogFollowSettings {
  /** How often a tailer looks for new bytes. */
  pollMs: number;
  /** How often a tailer reads the job's status (Redis) to learn that it is final. */
  statusPollMs: number;
  heartbeatMs: number;
  perJob: number;
  total: number;
  /** Bytes per read, and the most one follower or the tailer reads per tick while the job runs. */
  readBytes: number;
}

export const DEFAULT_LOG_FOLLOW_SETTINGS: LogFollowSettings = {
  pollMs: 200,
  statusPollMs: 500,
  heartbeatMs: 15_000,
  perJob: LOG_FOLLOWER_LIMITS.perJob,
  total: LOG_FOLLOWER_LIMITS.total,
  readBytes: 256 * 1024,
};

/** How long a refused follower should wait: followers come and go within seconds. */
const RETRY_AFTER_SECONDS = 5;

interface Follower {
  sink: LogFollower;
  /** The byte offset this follower has been sent up to. */
  offset: number;
  closed: boolean;
}

/**
 * One tailer per followed job in this process: it reads each new byte of the log once and fans it
 * out, so N followers cost N socket writes, not N file reads. A follower that asks for an older
 * offset catches up with reads of its own, once, then shares the tailer's.
 */
export class LogFollowHub implements BeforeApplicationShutdown {
  private readonly tails = new Map<string, Tail>();
  private followerCount = 0;

  constructor(
    private readonly storage: StoragePort,
    private readonly status: JobStatusPort,
    private readonly settings: LogFollowSettings = DEFAULT_LOG_FOLLOW_SETTINGS,
  ) {}

  /** Starts sending `jobId`'s log from `offset`; returns how to stop. Throws RateLimited over the caps. */
  follow(jobId: string, offset: number, sink: LogFollower): () => void {
    const tail = this.tails.get(jobId);
    if ((tail?.size ?? 0) >= this.settings.perJob) {
      throw new RateLimited(`job ${jobId} already has ${this.settings.perJob} live log followers, the most allowed; retry in ${RETRY_AFTER_SECONDS} s or poll without follow`, RETRY_AFTER_SECONDS);
    }
    if (this.followerCount >= this.settings.total) {
      throw new RateLimited(`this server already streams ${this.settings.total} live logs, the most allowed; retry in ${RETRY_AFTER_SECONDS} s or poll without follow`, RETRY_AFTER_SECONDS);
    }
    const follower: Follower = { sink, offset, closed: false };
    const owner = tail ?? this.startTail(jobId, offset);
    this.followerCount += 1;
    owner.add(follower);
    return () => owner.remove(follower);
  }

  /** Jobs with a live tailer, for tests and the benchmark. */
  tailedJobs(): string[] {
    return [...this.tails.keys()];
  }

  beforeApplicationShutdown(): void {
    // Open streams would keep the HTTP server from closing; clients resume with Last-Event-ID.
    for (const [jobId, tail] of this.tails) {
      tail.closeAll();
      this.stopTail(jobId, tail);
    }
  }

  private startTail(jobId: string, offset: number): Tail {
    const tail = new Tail(jobId, offset, this.storage, this.status, this.settings, () => {
      this.followerCount -= 1;
      if (tail.size === 0) this.stopTail(jobId, tail);
    });
    this.tails.set(jobId, tail);
    return tail;
  }

  private stopTail(jobId: string, tail: Tail): void {
    tail.stop();
    if (this.tails.get(jobId) === tail) this.tails.delete(jobId);
  }
}

/** Follows one job's log file and status for every follower of that job. */
class Tail {
  private readonly followers = new Set<Follower>();
  private readonly timer: NodeJS.Timeout;
  /** Bytes of the log read so far (-1: not looked at yet). */
  private offset = -1;
  private busy = false;
  private stopped = false;
  private lastStatusCheck = 0;
  private lastHeartbeat = Date.now();

  constructor(
    private readonly jobId: string,
    private readonly startOffset: number,
    private readonly storage: StoragePort,
    private readonly status: JobStatusPort,
    private readonly settings: LogFollowSettings,
    /** Called once for each follower that leaves, whichever way. */
    private readonly onLeft: () => void,
  ) {
    this.timer = setInterval(() => void this.tick(), settings.pollMs);
  }

  get size(): number {
    return this.followers.size;
  }

  add(follower: Follower): void {
    this.followers.add(follower);
    // A newcomer gets what is there now, not after the next interval.
    setImmediate(() => void this.tick());
  }

  /** The client went away. */
  remove(follower: Follower): void {
    if (!this.followers.delete(follower)) return;
    follower.closed = true;
    this.onLeft();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  closeAll(): void {
    for (const follower of [...this.followers]) this.close(follower);
  }

  private async tick(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      const now = Date.now();
      let final: { job: Job | undefined } | undefined;
      if (now - this.lastStatusCheck >= this.settings.statusPollMs) {
        this.lastStatusCheck = now;
        const job = await this.status.get(this.jobId);
        if (!job || isFinal(job.status)) final = { job };
      }
      // Read after seeing the final status: the last bytes were written before it was set.
      const budget = final ? Number.POSITIVE_INFINITY : this.settings.readBytes;
      await this.readNew(budget);
      for (const follower of this.followers) await this.catchUp(follower, budget);
      if (this.stopped) return;
      if (final) return this.finish(final.job);
      if (now - this.lastHeartbeat >= this.settings.heartbeatMs) {
        this.lastHeartbeat = now;
        for (const follower of this.followers) this.send(follower, { kind: 'heartbeat' });
      }
    } catch {
      // Disk or Redis hiccup: try again on the next tick; followers only see a pause.
    } finally {
      this.busy = false;
    }
  }

  /** Reads bytes past `offset` once and sends them to every follower that is exactly there. */
  private async readNew(budget: number): Promise<void> {
    let read = 0;
    while (read < budget && !this.stopped) {
      const chunk = await this.storage.loadLogs(this.jobId, Math.max(0, this.offset), this.settings.readBytes);
      if (!chunk) return;
      if (this.offset < 0) {
        // Start at the first follower's offset, or at the end of a shorter log (followers ahead wait).
        this.offset = Math.min(this.startOffset, chunk.size);
        continue;
      }
      if (chunk.size < this.offset) {
        this.restart();
        continue;
      }
      if (chunk.nextOffset === this.offset) return;
      const start = this.offset;
      this.offset = chunk.nextOffset;
      read += chunk.nextOffset - start;
      for (const follower of this.followers) {
        if (follower.offset === start) this.sendLog(follower, chunk.text, chunk.nextOffset);
      }
    }
  }

  /** A follower that joined behind the tailer (or ahead of a shorter log) reads its own way up to it. */
  private async catchUp(follower: Follower, budget: number): Promise<void> {
    let read = 0;
    while (!follower.closed && follower.offset < this.offset && read < budget) {
      const from = follower.offset;
      const chunk = await this.storage.loadLogs(this.jobId, from, Math.min(this.settings.readBytes, this.offset - from));
      if (!chunk || chunk.nextOffset <= from || follower.offset !== from) return;
      read += chunk.nextOffset - from;
      this.sendLog(follower, chunk.text, chunk.nextOffset);
    }
  }

  private restart(): void {
    this.offset = 0;
    for (const follower of this.followers) {
      follower.offset = 0;
      this.send(follower, { kind: 'restart' });
    }
  }

  private finish(job: Job | undefined): void {
    for (const follower of [...this.followers]) {
      this.send(follower, { kind: 'end', job, offset: follower.offset });
      this.close(follower);
    }
  }

  private sendLog(follower: Follower, text: string, nextOffset: number): void {
    follower.offset = nextOffset;
    this.send(follower, { kind: 'log', text, nextOffset });
  }

  private send(follower: Follower, event: LogEvent): void {
    if (follower.closed) return;
    if (!follower.sink.send(event)) this.close(follower);
  }

  /** Ends a follower's stream from this side. */
  private close(follower: Follower): void {
    if (!this.followers.delete(follower)) return;
    follower.closed = true;
    follower.sink.close();
    this.onLeft();
  }
}
