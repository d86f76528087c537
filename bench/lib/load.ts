import autocannon from 'autocannon';
import { Sample } from './stats';

export interface LoadResult {
  samples: Sample[];
  seconds: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

/** Drives one HTTP scenario with autocannon and keeps every response's latency (autocannon reports no P95). */
export async function httpLoad(options: {
  url: string;
  connections: number;
  seconds: number;
  headers: Record<string, string>;
  request: autocannon.Request;
}): Promise<LoadResult> {
  const samples: Sample[] = [];
  const statusCodes: Record<string, number> = {};
  let ok = 0;
  const started = performance.now();
  let finish: (error: unknown, result: autocannon.Result) => void = () => undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finish = (error, result) => (error ? reject(error) : resolve(result));
  });
  const instance = autocannon(
    {
      url: options.url,
      connections: options.connections,
      pipelining: 1,
      duration: options.seconds,
      timeout: 30,
      headers: options.headers,
      requests: [options.request],
    },
    (error, result) => finish(error, result),
  );
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    samples.push({ at: performance.now() - started, latency: responseTime });
    statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
    if (statusCode >= 200 && statusCode < 300) ok++;
  });
  const result = await done;
  const seconds = (performance.now() - started) / 1000;
  return {
    samples,
    seconds,
    ok,
    non2xx: samples.length - ok,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
  };
}

/** `inFlight` async loops calling `operation` back to back for `seconds`; the same closed loop autocannon runs. */
export async function closedLoop(
  inFlight: number,
  seconds: number,
  operation: (sequence: number) => Promise<unknown>,
): Promise<{ samples: Sample[]; seconds: number; errors: number; firstError?: string }> {
  const samples: Sample[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let sequence = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const loop = async () => {
    while (performance.now() < deadline) {
      const begin = performance.now();
      try {
        await operation(sequence++);
        const end = performance.now();
        samples.push({ at: end - started, latency: end - begin });
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, loop));
  return { samples, seconds: (performance.now() - started) / 1000, errors, firstError };
}
