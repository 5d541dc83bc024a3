import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';

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
