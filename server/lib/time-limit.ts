/** What `within` answers when its time ran out first. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * The promise's value, or TIMED_OUT when `ms` pass before it settles: the one way a wait on
 * something that may never answer (Redis, PostgreSQL, a shutdown step) is bounded here. A
 * rejection before the bound is passed on; one after it is ignored, and the promise goes on.
 * The timer is cleared once the race is over and never keeps the process alive.
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), ms);
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The promise's value, or the error `timedOut` makes when `ms` pass before it settles: `within`
 * for a caller that fails on a wait that ran out (an enqueue left to the relay, an audit INSERT
 * whose requests answer 503).
 */
export async function answerWithin<T>(
  promise: Promise<T>,
  ms: number,
  timedOut: () => Error,
): Promise<T> {
  const value = await within(promise, ms);
  if (value === TIMED_OUT) throw timedOut();
  return value;
}
