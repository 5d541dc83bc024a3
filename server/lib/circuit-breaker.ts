import type { Clock } from './clock';

export type BreakerState = 'closed' | 'open' | 'half_open';

/**
 * Stops calling a dependency that just failed, instead of waiting its timeout on every request.
 * Closed: every call goes through. One failure opens it: calls are refused (the caller takes its
 * fallback) until `retryAfterMs` has passed or `probe()` is called (Redis 'ready'); it is then
 * half-open and lets exactly one call through, whose outcome closes or re-opens it.
 */
export interface CircuitBreaker {
  /** Whether a call may go now; in half-open, true once (the probe), false for the others. */
  allows(): boolean;
  succeeded(): void;
  failed(): void;
  /** The dependency says it is back: let the next call probe it. */
  probe(): void;
  state(): BreakerState;
}

export function createCircuitBreaker(opts: { clock: Clock; retryAfterMs: number }): CircuitBreaker {
  let state: BreakerState = 'closed';
  let openedAt = 0;
  let probing = false;
  const now = () => opts.clock.now().getTime();
  const current = (): BreakerState => {
    if (state === 'open' && now() - openedAt >= opts.retryAfterMs) state = 'half_open';
    return state;
  };
  return {
    allows() {
      const s = current();
      if (s === 'closed') return true;
      if (s === 'open' || probing) return false;
      probing = true;
      return true;
    },
    succeeded() {
      state = 'closed';
      probing = false;
    },
    failed() {
      state = 'open';
      openedAt = now();
      probing = false;
    },
    probe() {
      if (state === 'open') state = 'half_open';
    },
    state: current,
  };
}
