import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const START_SCRIPT = path.resolve(__dirname, '../scripts/start-mlflow.sh');

export interface ThrowawayMlflow {
  uri: string;
  /** pid of the process group: the mlflow CLI, uvicorn and its workers */
  pid: number;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/**
 * Starts scripts/start-mlflow.sh on `port` with `env` in its own process group and waits for
 * /health. stop() ends that group only (SIGTERM, SIGKILL after 10 s).
 */
export async function startMlflow(port: number, sharedDir: string, env: Record<string, string>, timeoutMs = 120_000): Promise<ThrowawayMlflow> {
  const uri = `http://127.0.0.1:${port}`;
  const logFile = path.join(sharedDir, 'mlflow.log');
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn('bash', [START_SCRIPT], {
    env: { ...process.env, ...env, MLFLOW_TRACKING_URI: uri, SHARED_DIR: sharedDir },
    stdio: ['ignore', log, log],
    detached: true,
  });
  closeSync(log);
  let exited = child.exitCode !== null;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void gone.then(() => (exited = true));
  const logTail = (lines = 20) => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // the group is gone
    }
  };
  const stop = async () => {
    if (!exited) {
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    // uvicorn's workers may outlive the CLI by a moment.
    signal('SIGKILL');
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`MLflow exited during start:\n${logTail()}`);
    const healthy = await fetch(`${uri}/health`, { signal: AbortSignal.timeout(2000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return { uri, pid: child.pid!, logTail, stop };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stop();
  throw new Error(`MLflow did not answer ${uri}/health within ${timeoutMs / 1000} s:\n${logTail()}`);
}
