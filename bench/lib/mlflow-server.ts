import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { Agent, createServer, IncomingMessage, request, Server, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { ROOT } from './api-process';
import { unixNow } from './worker-process';

/**
 * A throwaway MLflow tracking server (scripts/start-mlflow.sh, as scripts/test.sh starts one) on
 * its own port and data folder. It runs in its own process group, and stop() ends that group only.
 */
export class MlflowServer {
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(
    readonly child: ChildProcess,
    readonly uri: string,
    readonly logFile: string,
  ) {
    child.on('exit', (code, signal) => {
      this.exit = { code, signal };
    });
  }

  static async start(port: number, dataDir: string, timeoutMs = 180_000): Promise<MlflowServer> {
    const uri = `http://127.0.0.1:${port}`;
    const logFile = path.join(dataDir, 'mlflow.log');
    spawnSync('mkdir', ['-p', dataDir]);
    const out = openSync(logFile, 'a');
    const child = spawn('bash', [path.join(ROOT, 'scripts', 'start-mlflow.sh')], {
      cwd: ROOT,
      env: { ...process.env, MLFLOW_TRACKING_URI: uri, SHARED_DIR: dataDir },
      stdio: ['ignore', out, out],
      detached: true,
    });
    const server = new MlflowServer(child, uri, logFile);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (server.exit) throw new Error(`MLflow exited during start (${JSON.stringify(server.exit)}):\n${server.tail()}`);
      try {
        const response = await fetch(`${uri}/health`, { signal: AbortSignal.timeout(2000) });
        if (response.ok) return server;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await server.stop();
    throw new Error(`MLflow did not answer ${uri}/health within ${timeoutMs / 1000} s:\n${server.tail()}`);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  tail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** SIGTERM to the server's own process group (the mlflow CLI and its uvicorn), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (this.exit || this.pid <= 0) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-this.pid, signal);
      } catch {
        // already gone
      }
    };
    signalGroup('SIGTERM');
    const timer = setTimeout(() => signalGroup('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    // uvicorn may outlive the CLI by a moment; anything left in the group goes now.
    await new Promise((resolve) => setTimeout(resolve, 200));
    signalGroup('SIGKILL');
  }
}

export interface ProxiedCall {
  method: string;
  /** path without the query string */
  path: string;
  status: number;
  /** unix ms: request head received by the proxy */
  start: number;
  /** unix ms: response fully passed back to the caller */
  end: number;
}

/**
 * An HTTP pass-through in front of MLflow that records every call (method, path, start, end), so
 * the benchmark can see the worker's MLflow round trips without timing code in the product.
 * It adds one local hop per call; its numbers are for the profile pass only.
 */
export class TimingProxy {
  private constructor(
    private readonly server: Server,
    private readonly agent: Agent,
    readonly uri: string,
    readonly calls: ProxiedCall[],
  ) {}

  static async start(port: number, target: string): Promise<TimingProxy> {
    const upstream = new URL(target);
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const calls: ProxiedCall[] = [];
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const start = unixNow();
      const forward = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
          agent,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', () =>
            calls.push({
              method: req.method ?? '?',
              path: (req.url ?? '').split('?')[0],
              status: answer.statusCode ?? 0,
              start,
              end: unixNow(),
            }),
          );
        },
      );
      forward.on('error', (error) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`bench proxy: ${error.message}`);
      });
      req.pipe(forward);
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return new TimingProxy(server, agent, `http://127.0.0.1:${port}`, calls);
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A short name for an MLflow REST path: runs/create, experiments/get-by-name, artifact PUT, ... */
export function callLabel(call: ProxiedCall): string {
  const rest = /\/api\/2\.0\/mlflow\/(.+)$/.exec(call.path)?.[1];
  if (rest) return `MLflow ${rest}`;
  if (call.path.includes('/mlflow-artifacts/artifacts/')) return `MLflow artifact ${call.method}`;
  return `MLflow ${call.method} ${call.path}`;
}
