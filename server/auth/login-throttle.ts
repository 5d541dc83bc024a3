import type { Redis } from 'ioredis';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { TooManyRequestsError } from '../lib/errors';
import { createRateLimiter } from '../lib/rate-limit';

/**
 * Login attempts are counted per account and per IP, in Redis so every web replica shares them,
 * with an in-memory fallback while Redis is away. Blocks end by themselves: no permanent lockout.
 * An attempt is counted before its password is checked: counting failures afterwards let
 * parallel guesses all pass the check before any of them was recorded.
 */
export interface LoginThrottle {
  /** Counts one attempt; 429 when the account or the IP is over its limit. */
  attempt(email: string, ip: string): Promise<void>;
  /** A successful login forgets the account's attempts and gives the IP its point back. */
  succeed(email: string, ip: string): Promise<void>;
}

interface ThrottleOptions {
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

export function createLoginThrottle(
  redis: Redis | null,
  opts: Partial<ThrottleOptions> = {},
): LoginThrottle {
  const o = { ...DEFAULTS, ...opts };
  const byAccount = createRateLimiter(redis, {
    keyPrefix: `${o.keyPrefix}:login:account`,
    points: o.perAccount,
    durationSeconds: o.windowSeconds,
  });
  const byIp = createRateLimiter(redis, {
    keyPrefix: `${o.keyPrefix}:login:ip`,
    points: o.perIp,
    durationSeconds: o.windowSeconds,
  });
  const accountKey = (email: string) => email.trim().toLowerCase();

  return {
    async attempt(email, ip) {
      const results = await Promise.allSettled([
        byAccount.consume(accountKey(email)),
        byIp.consume(ip),
      ]);
      const over = results.flatMap((r) =>
        r.status === 'rejected' && r.reason instanceof RateLimiterRes ? [r.reason] : [],
      );
      if (over.length) {
        const wait = Math.max(...over.map((r) => r.msBeforeNext));
        throw new TooManyRequestsError(
          'Too many failed logins; wait a few minutes and try again',
          Math.max(1, Math.ceil(wait / 1000)),
        );
      }
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    },
    async succeed(email, ip) {
      await Promise.all([byAccount.delete(accountKey(email)), byIp.reward(ip, 1)]);
    },
  };
}
