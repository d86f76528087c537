import type { Logger } from 'pino';
import { Logger as NestPino, PinoLogger } from 'nestjs-pino';
import { storage, Store } from 'nestjs-pino/storage';

/** Fields every line of one request or one job carries: request_id, user, job_id. */
export type LogFields = Record<string, string>;

/**
 * Nest's LoggerService over `root`, for app.useLogger / Logger.overrideLogger: every existing
 * `new Logger('X')` line becomes a JSON line with `context: "X"`, plus the fields of the request
 * or job it was written in (nestjs-pino reads them from its AsyncLocalStorage).
 *
 * nestjs-pino keeps one out-of-context logger per process (the first one made): lines written
 * outside any request or job go to the first app's root. One process runs one app, so only tests
 * that build several apps in one file see that.
 */
export function nestLoggerFor(root: Logger): NestPino {
  return new NestPino(new PinoLogger({ pinoHttp: { logger: root } }), {});
}

/** Runs `work` with `fields` on every line logged inside it (async continuations included). */
export function runWithLogFields<T>(root: Logger, fields: LogFields, work: () => T): T {
  return new LogScope(root, fields).run(work);
}

/**
 * The fields of one request or job: `run` binds them to everything `work` does, and `logger`
 * is its logger with whatever addLogFields added since, also from code outside the scope (an
 * HTTP 'finish' event is not inside the request's async context).
 */
export class LogScope {
  private readonly store: Store;

  constructor(root: Logger, fields: LogFields) {
    const parent = storage.getStore()?.logger ?? root;
    this.store = new Store(parent.child(fields));
  }

  run<T>(work: () => T): T {
    return storage.run(this.store, work);
  }

  logger(): Logger {
    return this.store.logger;
  }
}

/** Adds fields to the lines still to come in the current request or job; false outside one. */
export function addLogFields(fields: LogFields): boolean {
  const store = storage.getStore();
  if (!store) return false;
  store.logger = store.logger.child(fields);
  return true;
}

/** The logger of the current request or job, or `root` outside one. */
export function currentLogger(root: Logger): Logger {
  return storage.getStore()?.logger ?? root;
}
