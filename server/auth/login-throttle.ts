import type { Redis } from 'ioredis';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { systemClock, type Clock } from '../lib/clock';
import { TooManyRequestsError } from '../lib/errors';
import { addressKey, createRateLimiter } from '../lib/rate-limit';

/**
 * Login attempts are limited per account and address, and per address; across addresses an
 * account is slowed down, never locked: whoever fails on an account from one place cannot keep
 * its owner out from another. Counters live in Redis so every web replica shares them, with an
 * in-memory fallback while Redis is away; every block ends by itself. An attempt is counted
 * before its password is checked: counting failures afterwards let parallel guesses all pass
 * the check before any of them was recorded.
 *
 * - account and address: `perAccountAddress` attempts per window, then 429 until the window ends
 *   (the guesser's own address);
 * - address: `perIp` attempts per window, whatever the accounts; a right attempt gives its point
 *   back (a login in two steps, each of its steps), so only wrong ones use the address up: a
 *   whole office behind one address is not locked out by its own logins;
 * - account, across addresses: past `slowAfter` failures in the window, each address waits a
 *   delay before its next attempt on the account (its first one too), doubling with every
 *   failure from `baseDelayMs` up to `maxDelayMs`. A guesser spread over addresses gets one try
 *   per delay and address; the owner, from a new address, gets in after at most `maxDelayMs`.
 */
export interface LoginThrottle {
  /** Counts one attempt; 429 (with the wait) when a limit or the slow-down says not yet. */
  attempt(email: string, ip: string): Promise<void>;
  /** A successful login forgets the account's failures and gives the address its point back. */
  succeed(email: string, ip: string): Promise<void>;
  /**
   * A right password whose second factor is still to come (a login in two steps): the address
   * gets this attempt's point back, as it will the code's once right, so that a login costs it
   * nothing whatever its steps; the account's failures stay until the code is right.
   */
  passFirstFactor(clientIp: string): Promise<void>;
}

interface ThrottleOptions {
  perAccountAddress: number;
  perIp: number;
  windowSeconds: number;
  slowAfter: number;
  baseDelayMs: number;
  maxDelayMs: number;
  keyPrefix: string;
  /** The slow-down's delays are measured on it, so tests fix it. */
  clock: Clock;
  /** The most next-attempt times the memory holds while Redis is away. */
  memoryCap: number;
}

const DEFAULTS: ThrottleOptions = {
  perAccountAddress: 10,
  perIp: 100,
  windowSeconds: 15 * 60,
  slowAfter: 10,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  keyPrefix: 'aller-vers',
  clock: systemClock,
  memoryCap: 10_000,
};

/** The wait an address owes before its next attempt on an account that failed `failures` times. */
export function slowDownDelayMs(
  failures: number,
  o: Pick<ThrottleOptions, 'slowAfter' | 'baseDelayMs' | 'maxDelayMs'>,
): number {
  if (failures < o.slowAfter) return 0;
  const doublings = Math.min(failures - o.slowAfter, 30);
  return Math.min(o.baseDelayMs * 2 ** doublings, o.maxDelayMs);
}

/**
 * When each address may try an account next: in Redis, or in memory while Redis is away. An
 * entry lasts `ttlMs` from its last write in both. The memory keeps its entries in the order
 * they lapse (each write moves its key last), drops the lapsed ones from the front at each
 * write, and holds at most `memoryCap`: past that the soonest to lapse goes, so guesses spread
 * over many accounts and addresses can grow it neither without bound nor slowly to prune.
 */
function nextAttemptStore(
  redis: Redis | null,
  prefix: string,
  ttlMs: number,
  clock: Clock,
  memoryCap: number,
) {
  const memory = new Map<string, { at: number; until: number }>();
  const fromMemory = (key: string): number | null => {
    const entry = memory.get(key);
    if (!entry) return null;
    if (entry.until > clock.now().getTime()) return entry.at;
    memory.delete(key);
    return null;
  };
  return {
    async get(key: string): Promise<number | null> {
      if (redis?.status === 'ready') {
        const v = await redis.get(`${prefix}:${key}`).catch(() => undefined);
        if (v !== undefined) return v === null ? null : Number(v);
      }
      return fromMemory(key);
    },
    async set(key: string, at: number): Promise<void> {
      const now = clock.now().getTime();
      for (const [k, e] of memory) {
        if (e.until > now && memory.size < memoryCap) break;
        memory.delete(k);
      }
      memory.delete(key);
      memory.set(key, { at, until: now + ttlMs });
      if (redis?.status === 'ready')
        await redis.set(`${prefix}:${key}`, String(at), 'PX', ttlMs).catch(() => undefined);
    },
    async delete(key: string): Promise<void> {
      memory.delete(key);
      if (redis?.status === 'ready') await redis.del(`${prefix}:${key}`).catch(() => undefined);
    },
  };
}

const tooMany = (ms: number) =>
  new TooManyRequestsError(
    'Too many failed logins; wait a little and try again',
    Math.max(1, Math.ceil(ms / 1000)),
  );

export function createLoginThrottle(
  redis: Redis | null,
  opts: Partial<ThrottleOptions> = {},
): LoginThrottle {
  const o = { ...DEFAULTS, ...opts };
  const byPair = createRateLimiter(redis, {
    keyPrefix: `${o.keyPrefix}:login:account-ip`,
    points: o.perAccountAddress,
    durationSeconds: o.windowSeconds,
  });
  const byIp = createRateLimiter(redis, {
    keyPrefix: `${o.keyPrefix}:login:ip`,
    points: o.perIp,
    durationSeconds: o.windowSeconds,
  });
  // A counter only (its points are never reached): the account's failures across addresses.
  const byAccount = createRateLimiter(redis, {
    keyPrefix: `${o.keyPrefix}:login:account`,
    points: 1_000_000,
    durationSeconds: o.windowSeconds,
  });
  const next = nextAttemptStore(
    redis,
    `${o.keyPrefix}:login:next`,
    o.windowSeconds * 1000,
    o.clock,
    o.memoryCap,
  );
  const accountKey = (email: string) => email.trim().toLowerCase();
  const pairKey = (email: string, ip: string) => `${accountKey(email)}|${ip}`;

  /** The account-wide slow-down: 429 with the wait when this address must wait still. */
  async function slowDown(email: string, ip: string): Promise<void> {
    const failures = (await byAccount.get(accountKey(email)))?.consumedPoints ?? 0;
    const delay = slowDownDelayMs(failures, o);
    if (delay === 0) return;
    const now = o.clock.now().getTime();
    const key = pairKey(email, ip);
    const allowedAt = await next.get(key);
    if (allowedAt === null) {
      // A first attempt on the slowed account from this address waits the delay too.
      await next.set(key, now + delay);
      throw tooMany(delay);
    }
    if (allowedAt > now) throw tooMany(allowedAt - now);
    await next.set(key, now + delay);
  }

  return {
    async attempt(email, clientIp) {
      const ip = addressKey(clientIp);
      const results = await Promise.allSettled([
        byPair.consume(pairKey(email, ip)),
        byIp.consume(ip),
      ]);
      const over = results.flatMap((r) =>
        r.status === 'rejected' && r.reason instanceof RateLimiterRes ? [r.reason] : [],
      );
      if (over.length) throw tooMany(Math.max(...over.map((r) => r.msBeforeNext)));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      await slowDown(email, ip);
      await byAccount.consume(accountKey(email));
    },
    async succeed(email, clientIp) {
      const ip = addressKey(clientIp);
      await Promise.all([
        byPair.delete(pairKey(email, ip)),
        byAccount.delete(accountKey(email)),
        next.delete(pairKey(email, ip)),
        byIp.reward(ip, 1),
      ]);
    },
    async passFirstFactor(clientIp) {
      await byIp.reward(addressKey(clientIp), 1);
    },
  };
}
