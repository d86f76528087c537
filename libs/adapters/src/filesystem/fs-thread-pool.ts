import { Worker } from 'node:worker_threads';

/**
 * The system calls each task makes one after the other, in one thread. Plain JavaScript in a string:
 * the source must survive bundling and coverage instrumentation, which would rewrite a function.
 */
const TASKS_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');

const tasks = {
  /** Makes filesDir (refusing one that exists) and renames each upload into it, never over a file. */
  movePlainFiles({ filesDir, moves }) {
    const created = fs.mkdirSync(filesDir, { recursive: true });
    if (created === undefined || created === filesDir) return { conflict: true, moved: 0 };
    for (let index = 0; index < moves.length; index += 1) {
      const { from, to } = moves[index];
      try {
        let present = true;
        try { fs.lstatSync(to); } catch (error) { if (error.code !== 'ENOENT') throw error; present = false; }
        if (present) return { duplicate: index, moved: index };
        try {
          fs.renameSync(from, to);
        } catch (error) {
          if (error.code !== 'EXDEV') throw error;
          fs.copyFileSync(from, to, fs.constants.COPYFILE_EXCL);
          fs.unlinkSync(from);
        }
      } catch (error) {
        return { failed: index, moved: index, error: plain(error) };
      }
    }
    return { moved: moves.length };
  },
  /** Writes data at position in target; create makes the file, never over an existing one. */
  writeAt({ target, data, position, create }) {
    const fd = fs.openSync(target, create ? 'wx' : 'r+');
    try {
      for (let done = 0; done < data.length; ) done += fs.writeSync(fd, data, done, data.length - done, position + done);
    } finally {
      fs.closeSync(fd);
    }
    return {};
  },
  /** Writes text to a new temporary file, flushes it to disk, then renames it over target. */
  writeDurably({ temporary, target, text }) {
    const fd = fs.openSync(temporary, 'wx');
    try {
      try {
        fs.writeFileSync(fd, text);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(temporary, target);
    } catch (error) {
      try { fs.unlinkSync(temporary); } catch {}
      throw error;
    }
    return {};
  },
};

function plain(error) {
  return { message: error.message, code: error.code, syscall: error.syscall, path: error.path };
}

parentPort.on('message', ({ id, task, args }) => {
  try {
    parentPort.postMessage({ id, value: tasks[task](args) });
  } catch (error) {
    parentPort.postMessage({ id, error: plain(error) });
  }
});
`;

export interface MovePlainFilesResult {
  /** The folder was already there: another submission has this id. */
  conflict?: boolean;
  /** Index of the move whose target already existed. */
  duplicate?: number;
  /** Index of the move that failed, with its error. */
  failed?: number;
  error?: NodeJS.ErrnoException;
  /** How many uploads, from the first, were renamed into the folder. */
  moved: number;
}

interface Pending {
  thread: Worker;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * A few threads that run a short sequence of file system calls as one task. Each asynchronous fs
 * call is a round trip through libuv's pool and back to the event loop, and on a busy two-core host
 * each round trip waits for a CPU twice (P95 about 11 ms, measured); a submission made a dozen of
 * them. Here a sequence costs one round trip, and the event loop never blocks on the disk.
 */
export class FsThreadPool {
  private readonly threads: Worker[] = [];
  private readonly busy = new Map<Worker, number>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(private readonly size = 4) {}

  movePlainFiles(filesDir: string, moves: { from: string; to: string }[]): Promise<MovePlainFilesResult> {
    return this.run<MovePlainFilesResult>('movePlainFiles', { filesDir, moves }).then((result) => ({
      ...result,
      error: result.error && toError(result.error),
    }));
  }

  /** Writes data at position in target; `create` makes the file, failing with EEXIST when it is there. */
  async writeAt(target: string, data: Uint8Array, position: number, create: boolean): Promise<void> {
    // A buffer that owns all of its memory moves to the thread instead of being copied there (about
    // 1 ms per MB of main-thread time); the caller must not touch it afterwards. Others are copied.
    const owned = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
    await this.run('writeAt', { target, data, position, create }, owned ? [data.buffer as ArrayBuffer] : []);
  }

  async writeDurably(temporary: string, target: string, text: string): Promise<void> {
    await this.run('writeDurably', { temporary, target, text });
  }

  /** Ends the threads; a later task starts new ones. */
  async close(): Promise<void> {
    const threads = this.threads.splice(0);
    await Promise.all(threads.map((thread) => thread.terminate()));
  }

  private run<T>(task: string, args: unknown, transfer: ArrayBuffer[] = []): Promise<T> {
    const thread = this.idlest();
    const id = this.nextId++;
    this.busy.set(thread, (this.busy.get(thread) ?? 0) + 1);
    // A thread with work keeps the process alive; an idle one never does.
    thread.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { thread, resolve: resolve as (value: unknown) => void, reject });
      thread.postMessage({ id, task, args }, transfer);
    });
  }

  private idlest(): Worker {
    if (this.threads.length < this.size) return this.start();
    return this.threads.reduce((best, each) => ((this.busy.get(each) ?? 0) < (this.busy.get(best) ?? 0) ? each : best));
  }

  private start(): Worker {
    const thread = new Worker(TASKS_SOURCE, { eval: true });
    thread.unref();
    this.threads.push(thread);
    thread.on('message', ({ id, value, error }: { id: number; value?: unknown; error?: PlainError }) => {
      const left = (this.busy.get(thread) ?? 1) - 1;
      this.busy.set(thread, left);
      if (left === 0) thread.unref();
      const waiting = this.pending.get(id);
      this.pending.delete(id);
      if (error) waiting?.reject(toError(error));
      else waiting?.resolve(value);
    });
    thread.on('error', (error) => this.fail(thread, error));
    thread.on('exit', (code) => this.fail(thread, new Error(`file system thread exited with code ${code}`)));
    return thread;
  }

  /** A thread that dies takes its tasks with it: they fail, and the next task starts a new thread. */
  private fail(thread: Worker, error: Error): void {
    const index = this.threads.indexOf(thread);
    if (index >= 0) this.threads.splice(index, 1);
    this.busy.delete(thread);
    for (const [id, waiting] of this.pending) {
      if (waiting.thread !== thread) continue;
      this.pending.delete(id);
      waiting.reject(error);
    }
  }
}

let shared: FsThreadPool | undefined;

/** One pool for the process: the storage adapter and the upload receiver share its threads. */
export function sharedFsThreads(): FsThreadPool {
  shared ??= new FsThreadPool();
  return shared;
}

interface PlainError {
  message: string;
  code?: string;
  syscall?: string;
  path?: string;
}

function toError(plain: PlainError): NodeJS.ErrnoException {
  return Object.assign(new Error(plain.message), { code: plain.code, syscall: plain.syscall, path: plain.path });
}
