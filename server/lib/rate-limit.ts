import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { TooManyRequestsError } from './errors';

/**
 * A counter shared by every web replica through Redis, with an in-memory one standing in while
 * Redis is away (counts are then per process, which is still a limit).
 */
export function createRateLimiter(
  redis: Redis | null,
  o: { keyPrefix: string; points: number; durationSeconds: number },
): RateLimiterAbstract {
  const memory = new RateLimiterMemory({
    keyPrefix: o.keyPrefix,
    points: o.points,
    duration: o.durationSeconds,
  });
  if (!redis) return memory;
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: o.keyPrefix,
    points: o.points,
    duration: o.durationSeconds,
    rejectIfRedisNotReady: true,
    insuranceLimiter: memory,
  });
}

/** Counts one request against `key`; over the limit, a 429 saying when to come back. */
export async function consumeOrRefuse(
  limiter: RateLimiterAbstract,
  key: string,
  message: string,
): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (err) {
    if (err instanceof RateLimiterRes)
      throw new TooManyRequestsError(message, Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
    throw err;
  }
}
