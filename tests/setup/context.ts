import crypto from 'node:crypto';
import type { Express } from 'express';
import request from 'supertest';
import pino from 'pino';
import { createApp } from '../../server/app';
import { parseConfig, type Config } from '../../server/config';
import { buildContainer, type Deps } from '../../server/container';
import type { Clock } from '../../server/lib/clock';
import { createPostgres } from '../../server/lib/db';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './env';

export interface TestContext {
  deps: Deps;
  app: Express;
  config: Config;
  /** A fresh queue prefix per context, so files never see each other's jobs. */
  prefix: string;
  close(): Promise<void>;
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return parseConfig({
    NODE_ENV: 'test',
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: `test-${crypto.randomBytes(4).toString('hex')}`,
    LOG_LEVEL: 'silent',
    PUBLIC_URL: 'http://127.0.0.1:3000',
    SESSION_CLEANUP_INTERVAL_MS: '0',
    ...overrides,
  });
}

export async function createTestContext(
  opts: { clock?: Clock; env?: Record<string, string> } = {},
): Promise<TestContext> {
  const config = testConfig(opts.env);
  const db = createPostgres(config, config.DATABASE_URL ?? TEST_DATABASE_URL);
  const deps = await buildContainer(config, {
    clock: opts.clock,
    db,
    logger: pino({ level: 'silent' }),
  });
  const app = createApp(deps);
  return {
    deps,
    app,
    config,
    prefix: config.QUEUE_PREFIX,
    async close() {
      // Remove this context's keys from Redis (queue and throttle counters).
      const keys = await deps.redis.keys(`${config.QUEUE_PREFIX}*`).catch(() => [] as string[]);
      if (keys.length) await deps.redis.del(...keys).catch(() => undefined);
      await deps.close();
    },
  };
}

/** A supertest agent that keeps cookies, logged in as the given user. */
export async function loginAs(app: Express, email: string, password = DEFAULT_PASSWORD) {
  const agent = request.agent(app);
  const res = await agent.post('/api/session').send({ email, password });
  if (res.status !== 200)
    throw new Error(`login failed for ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  return agent;
}

export const DEFAULT_PASSWORD = 'un mot de passe assez long';
