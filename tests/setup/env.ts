/**
 * Where the tests find their services; override with TEST_DATABASE_URL and TEST_REDIS_URL.
 * Redis defaults to its own database (15) and never reads REDIS_URL: some tests FLUSHDB, and that
 * must only ever empty the test database, not the developer's.
 */
const BASE_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/aller_vers_test';
const BASE_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15';

/**
 * Jest runs test files in several worker processes (`npm test` uses two); files in different
 * workers must never share tables or queues. Worker 1 (and a `--runInBand` run) uses the
 * databases given above; worker k uses `<database>_w<k>` and the Redis database k - 1 below the
 * given one. The global setup creates and migrates one database per worker.
 */
export function workerDatabaseUrl(base: string, worker: number): string {
  if (worker <= 1) return base;
  const u = new URL(base);
  u.pathname = `${u.pathname}_w${worker}`;
  return u.toString();
}

export function workerRedisUrl(base: string, worker: number): string {
  if (worker <= 1) return base;
  const u = new URL(base);
  const index = Number(u.pathname.slice(1) || '0') - (worker - 1);
  if (index < 0) {
    throw new Error(
      `TEST_REDIS_URL ${base} leaves no Redis database for test worker ${worker}: ` +
        'give a higher database index (e.g. /15) or fewer workers.',
    );
  }
  u.pathname = `/${index}`;
  return u.toString();
}

/** This process's worker number (1 in the parent process and in a --runInBand run). */
export const TEST_WORKER = Number(process.env.JEST_WORKER_ID ?? '1');

export const TEST_DATABASE_URL = workerDatabaseUrl(BASE_DATABASE_URL, TEST_WORKER);
export const TEST_REDIS_URL = workerRedisUrl(BASE_REDIS_URL, TEST_WORKER);
export const ADMIN_DATABASE_URL = (() => {
  const u = new URL(BASE_DATABASE_URL);
  u.pathname = '/postgres';
  return u.toString();
})();
export const TEST_DATABASE_NAME = new URL(TEST_DATABASE_URL).pathname.slice(1);

/** The run's own database (the first worker's), on which the run holds its lock. */
export const RUN_DATABASE_URL = BASE_DATABASE_URL;
export const RUN_DATABASE_NAME = new URL(BASE_DATABASE_URL).pathname.slice(1);

/** The databases of every worker of a run with `workers` workers, the run's own first. */
export function runDatabases(workers: number): { url: string; redisUrl: string; name: string }[] {
  return Array.from({ length: Math.max(1, workers) }, (_, i) => {
    const url = workerDatabaseUrl(BASE_DATABASE_URL, i + 1);
    return {
      url,
      redisUrl: workerRedisUrl(BASE_REDIS_URL, i + 1),
      name: new URL(url).pathname.slice(1),
    };
  });
}

/** The advisory lock key a test run holds on its database (advisory locks are per database). */
export const TEST_RUN_LOCK = 7_141_526_375;

/** What the global setup leaves for the global teardown (they share jest's parent process). */
export interface TestRunGlobals {
  __testRunLock?: { query(sql: string, values: unknown[]): Promise<unknown>; end(): Promise<void> };
}
