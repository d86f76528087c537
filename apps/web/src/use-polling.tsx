import { useEffect } from 'preact/hooks';

/** Calls `tick` every `intervalMs` while `active`; stops when the page goes away. */
export function usePolling(active: boolean, tick: () => void, intervalMs = 2000): void {
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(tick, intervalMs);
    return () => clearInterval(timer);
  }, [active, tick, intervalMs]);
}
