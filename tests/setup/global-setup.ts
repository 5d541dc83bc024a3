import knexFactory from 'knex';
import { Redis } from 'ioredis';
import { migrateLatest } from '../../server/lib/db';
import { ADMIN_DATABASE_URL, TEST_DATABASE_NAME, TEST_DATABASE_URL, TEST_REDIS_URL } from './env';

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
