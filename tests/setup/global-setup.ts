import knexFactory from 'knex';
import pg from 'pg';
import { Redis } from 'ioredis';
import { migrateLatest } from '../../server/lib/db';
import type { Config } from 'jest';
import {
  ADMIN_DATABASE_URL,
  RUN_DATABASE_NAME,
  RUN_DATABASE_URL,
  TEST_RUN_LOCK,
  runDatabases,
  type TestRunGlobals,
} from './env';
import globalTeardown from './global-teardown';

/**
 * Two runs on one test database truncate each other's tables: a run holds a session-level
 * advisory lock on a connection of its own until the global teardown (tests/setup/global-teardown.ts)
 * releases it, and a second run stops at once, saying so.
 */
async function holdTestDatabase(): Promise<void> {
  const client = new pg.Client({ connectionString: RUN_DATABASE_URL });
  await client.connect();
  const { rows } = await client.query<{ locked: boolean }>(
    'SELECT pg_try_advisory_lock($1) AS locked',
    [TEST_RUN_LOCK],
  );
  if (!rows[0].locked) {
    await client.end();
    throw new Error(
      `Another test run is using ${RUN_DATABASE_NAME}: wait for it to finish, or give this run a ` +
        'database of its own (TEST_DATABASE_URL) and a Redis database of its own (TEST_REDIS_URL).',
    );
  }
  // An error on this idle connection must not crash the run; the lock would go with it.
  client.on('error', () => undefined);
  (globalThis as TestRunGlobals).__testRunLock = client;
}

/**
 * Creates and migrates the test database of each jest worker once per run (commits without
 * waiting for the disk); says clearly what is missing. The run's lock is held on the first
 * worker's database, which names the run.
 */
export default async function globalSetup(
  globalConfig?: Pick<Config, 'maxWorkers'>,
): Promise<void> {
  const workers = typeof globalConfig?.maxWorkers === 'number' ? globalConfig.maxWorkers : 1;
  const databases = runDatabases(workers);
  const admin = knexFactory({
    client: 'pg',
    connection: ADMIN_DATABASE_URL,
    pool: { min: 0, max: 1 },
  });
  try {
    for (const { name } of databases) {
      const exists = await admin('pg_database').where({ datname: name }).first();
      if (!exists) await admin.raw('CREATE DATABASE ??', [name]);
      // A commit of a test database does not wait for its WAL to reach the disk: the same
      // PostgreSQL, the same visibility and locks, only what a crash of the server itself would
      // lose, which no test does. Every connection gets it, the started processes' too.
      await admin.raw('ALTER DATABASE ?? SET synchronous_commit = off', [name]);
    }
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
    await Promise.all(databases.map((d) => migrateAndCheckRedis(d.url, d.redisUrl)));
  } catch (err) {
    await globalTeardown();
    throw err;
  }
}

async function migrateAndCheckRedis(databaseUrl: string, redisUrl: string): Promise<void> {
  const knex = knexFactory({
    client: 'pg',
    connection: databaseUrl,
    pool: { min: 0, max: 2 },
  });
  try {
    await migrateLatest({ knex, kind: 'postgres' });
  } finally {
    await knex.destroy();
  }

  const redis = new Redis(redisUrl, {
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
      `Redis is not reachable at ${redisUrl} (${(err as Error).message}). Start it or set TEST_REDIS_URL.`,
      {
        cause: err,
      },
    );
  } finally {
    redis.disconnect();
  }
}
