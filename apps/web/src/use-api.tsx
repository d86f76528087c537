import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ApiResult } from './api-result';

/** Loads once per change of `deps`; `reload` asks again. A stale answer never overwrites a newer one. */
export function useApi<T>(load: () => Promise<ApiResult<T>>, deps: unknown[]): { result: ApiResult<T> | undefined; reload: () => void } {
  const [result, setResult] = useState<ApiResult<T>>();
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    load().then((answer) => {
      if (current) setResult(answer);
    });
    return () => {
      current = false;
    };
  }, [...deps, round]);
  return { result, reload: useCallback(() => setRound((value) => value + 1), []) };
}
