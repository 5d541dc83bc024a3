import { Redis, type RedisOptions } from 'ioredis';

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
    retryStrategy: (times) => Math.min(times * 200, 5000),
    ...extra,
  };
  return role === 'producer'
    ? new Redis(url, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 1 })
    : new Redis(url, { ...common, maxRetriesPerRequest: null });
}

/** Connects without throwing: false when Redis is not there yet (ioredis keeps retrying). */
export async function tryConnect(redis: Redis): Promise<boolean> {
  if (redis.status === 'ready') return true;
  try {
    if (redis.status === 'wait') await redis.connect();
    else
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('timeout')), 2000);
        redis.once('ready', () => {
          clearTimeout(t);
          resolve();
        });
      });
    return true;
  } catch {
    return false;
  }
}

export async function pingRedis(redis: Redis, timeoutMs = 1000): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  try {
    const res = await Promise.race([
      redis.ping(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs)),
    ]);
    return res === 'PONG';
  } catch {
    return false;
  }
}
