import { isIPv4, isIPv6 } from 'node:net';
import type { Redis } from 'ioredis';
import ipaddr from 'ipaddr.js';
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

/**
 * The key of a client address in every per-address limit: an IPv4 address as it is (an
 * IPv4-mapped IPv6 one, `::ffff:192.0.2.1`, as the IPv4 address it is), an IPv6 address by its
 * /64 prefix (`2001:db8:0:0::/64`). An IPv6 subscriber or host usually holds a whole /64 and may
 * pick any address in it (privacy addresses rotate by themselves): keyed by the full address,
 * one client would never reach a per-address limit. Anything else (no address) is kept as given.
 */
export function addressKey(ip: string | null | undefined): string {
  if (!ip) return 'unknown';
  if (isIPv4(ip)) return ip;
  // A zone (fe80::1%eth0) names an interface of this host, not another client.
  if (!isIPv6(ip.split('%')[0])) return ip;
  const address = ipaddr.IPv6.parse(ip);
  if (address.isIPv4MappedAddress()) return address.toIPv4Address().toString();
  return `${address.parts
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}
