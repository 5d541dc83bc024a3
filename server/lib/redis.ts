import { Redis, type RedisOptions } from 'ioredis';
import { TIMED_OUT, within } from './time-limit';

/**
 * How long a connection may wait for an answer from Redis before it is dropped and made again:
 * a Redis that accepts connections but never answers (a stalled server, a proxy whose backend is
 * gone) would otherwise hold every pending command, and the ready check, for ever. The worker's
 * bound is above BullMQ's longest blocking read (10 s, `maximumBlockTimeout`), which is a command
 * waiting for an answer too.
 */
const SOCKET_TIMEOUT_MS = { producer: 5_000, worker: 30_000 } as const;

/**
 * How long a producer's command may wait for its answer. A dropped connection does not end the
 * commands it carried (ioredis sends them again once Redis answers), so without this bound a
 * request counting a login attempt would wait for Redis as long as Redis stalls. Producers send
 * short commands only (BullMQ's add, the rate limiters' scripts, PING); workers never time out
 * theirs, as BullMQ requires of its blocking reads.
 */
export const PRODUCER_COMMAND_TIMEOUT_MS = 2_000;

/** How long a start waits for Redis to be ready before going on without it. */
const CONNECT_BOUND_MS = 2_000;

/**
 * Producers (the web) fail fast when Redis is away: the outbox keeps what could not be enqueued.
 * Workers wait for Redis instead (maxRetriesPerRequest: null, as BullMQ requires).
 */
export function createRedis(
  url: string,
  role: 'producer' | 'worker',
  extra: RedisOptions = {},
): Redis {
  const common: RedisOptions = {
    lazyConnect: true,
    connectTimeout: 2000,
    socketTimeout: SOCKET_TIMEOUT_MS[role],
    retryStrategy: (times) => Math.min(times * 200, 5000),
    ...extra,
  };
  return role === 'producer'
    ? new Redis(url, {
        ...common,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS,
      })
    : new Redis(url, { ...common, maxRetriesPerRequest: null });
}

/**
 * Connects without throwing: false when Redis is not ready within CONNECT_BOUND_MS (ioredis keeps
 * trying in the background). The bound covers the whole of it: the TCP connect (ioredis's
 * connectTimeout) and the ready check, which a Redis that accepts but never answers leaves
 * unanswered.
 */
export async function tryConnect(redis: Redis): Promise<boolean> {
  if (redis.status === 'ready') return true;
  let onReady: (() => void) | undefined;
  const ready =
    redis.status === 'wait'
      ? redis.connect()
      : new Promise<void>((resolve) => redis.once('ready', (onReady = resolve)));
  try {
    // A connect that fails after the bound has nothing to tell: ioredis retries on its own.
    return (await within(ready, CONNECT_BOUND_MS)) !== TIMED_OUT;
  } catch {
    return false;
  } finally {
    if (onReady) redis.off('ready', onReady);
  }
}

export async function pingRedis(redis: Redis, timeoutMs = 1000): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  try {
    return (await within(redis.ping(), timeoutMs)) === 'PONG';
  } catch {
    return false;
  }
}
