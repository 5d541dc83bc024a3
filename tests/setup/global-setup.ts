import knexFactory from 'knex';
import pg from 'pg';
import { Redis } from 'ioredis';
import { migrateLatest } from '../../server/lib/db';
import {
  ADMIN_DATABASE_URL,
  TEST_DATABASE_NAME,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  TEST_RUN_LOCK,
  type TestRunGlobals,
} from './env';
import globalTeardown from './global-teardown';

/**
 * Two runs on one test database truncate each other's tables: a run holds a session-level
 * advisory lock on a connection of its own until the global teardown (tests/setup/global-teardown.ts)
 * releases it, and a second run stops at once, saying so.
 */
async function holdTestDatabase(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  const { rows } = await client.query<{ locked: boolean }>(
    'SELECT pg_try_advisory_lock($1) AS locked',
    [TEST_RUN_LOCK],
  );
  if (!rows[0].locked) {
    await client.end();
    throw new Error(
      `Another test run is using ${TEST_DATABASE_NAME}: wait for it to finish, or give this run a ` +
        'database of its own (TEST_DATABASE_URL) and a Redis database of its own (TEST_REDIS_URL).',
    );
  }
  // An error on this idle connection must not crash the run; the lock would go with it.
  client.on('error', () => undefined);
  (globalThis as TestRunGlobals).__testRunLock = client;
}

/** Creates and migrates the test database once per run; says clearly what is missing. */
export default async function globalSetup(): Promise<void> {
  const admin = knexFactory({
    client: 'pg',
    connection: ADMIN_DATABASE_URL,
    pool: { min: 0, max: 1 },
  });
  try {
    const exists = await admin('pg_database').where({ datname: TEST_DATABASE_NAME }).first();
    if (!exists) await admin.raw('CREATE DATABASE ??', [TEST_DATABASE_NAME]);
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${ADMIN_DATABASE_URL} (${(err as Error).message}). ` +
        'Start it or set TEST_DATABASE_URL to a server where the test database can be created.',
      { cause: err },
    );
  } finally {
    await admin.destroy();
  }

  await holdTestDatabase();
  try {
    await migrateAndCheckRedis();
  } catch (err) {
    await globalTeardown();
    throw err;
  }
}

async function migrateAndCheckRedis(): Promise<void> {
  const knex = knexFactory({
    client: 'pg',
    connection: TEST_DATABASE_URL,
    pool: { min: 0, max: 2 },
  });
  try {
    await migrateLatest(knex);
  } finally {
    await knex.destroy();
  }

  const redis = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(
      `Redis is not reachable at ${TEST_REDIS_URL} (${(err as Error).message}). Start it or set TEST_REDIS_URL.`,
      {
        cause: err,
      },
    );
  } finally {
    redis.disconnect();
  }
}
