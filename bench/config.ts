import { parseConfig, type Config } from '../server/config';

/** The bench server's configuration; the seed encrypts with the same key. */
export function benchConfig(databaseUrl: string): Config {
  return parseConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: 'bench',
    LOG_LEVEL: 'silent',
  });
}
