import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { TooManyRequestsError } from '../lib/errors';

/**
 * Failed logins are counted per account and per IP, in Redis so every web replica shares them,
 * with an in-memory fallback while Redis is away. Blocks end by themselves: no permanent lockout.
 */
export interface LoginThrottle {
  check(email: string, ip: string): Promise<void>;
  fail(email: string, ip: string): Promise<void>;
  succeed(email: string): Promise<void>;
}

export interface ThrottleOptions {
  perAccount: number;
  perIp: number;
  windowSeconds: number;
  keyPrefix: string;
}

const DEFAULTS: ThrottleOptions = {
  perAccount: 10,
  perIp: 100,
  windowSeconds: 15 * 60,
  keyPrefix: 'aller-vers',
};

function limiter(
  redis: Redis | null,
  prefix: string,
  points: number,
  duration: number,
): RateLimiterAbstract {
  const memory = new RateLimiterMemory({ keyPrefix: prefix, points, duration });
  if (!redis) return memory;
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: prefix,
    points,
    duration,
    rejectIfRedisNotReady: true,
    insuranceLimiter: memory,
  });
}

export function createLoginThrottle(
  redis: Redis | null,
  opts: Partial<ThrottleOptions> = {},
): LoginThrottle {
  const o = { ...DEFAULTS, ...opts };
  const byAccount = limiter(redis, `${o.keyPrefix}:login:account`, o.perAccount, o.windowSeconds);
  const byIp = limiter(redis, `${o.keyPrefix}:login:ip`, o.perIp, o.windowSeconds);
  const accountKey = (email: string) => email.trim().toLowerCase();

  const blocked = (res: RateLimiterRes | null, points: number) =>
    res !== null && res.consumedPoints >= points;

  return {
    async check(email, ip) {
      const [a, i] = await Promise.all([byAccount.get(accountKey(email)), byIp.get(ip)]);
      if (blocked(a, o.perAccount) || blocked(i, o.perIp)) {
        const wait = Math.max(a?.msBeforeNext ?? 0, i?.msBeforeNext ?? 0);
        throw new TooManyRequestsError(
          'Too many failed logins; wait a few minutes and try again',
          Math.max(1, Math.ceil(wait / 1000)),
        );
      }
    },
    async fail(email, ip) {
      await Promise.all([byAccount.penalty(accountKey(email), 1), byIp.penalty(ip, 1)]);
    },
    async succeed(email) {
      await byAccount.delete(accountKey(email));
    },
  };
}
