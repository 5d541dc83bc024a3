/**
 * Where the tests find their services; override with TEST_DATABASE_URL and TEST_REDIS_URL.
 * Redis defaults to its own database (15) and never reads REDIS_URL: some tests FLUSHDB, and that
 * must only ever empty the test database, not the developer's.
 */
export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/aller_vers_test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
export const ADMIN_DATABASE_URL = (() => {
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = '/postgres';
  return u.toString();
})();
export const TEST_DATABASE_NAME = new URL(TEST_DATABASE_URL).pathname.slice(1);

/** The advisory lock key a test run holds on its database (advisory locks are per database). */
export const TEST_RUN_LOCK = 7_141_526_375;

/** What the global setup leaves for the global teardown (they share jest's parent process). */
export interface TestRunGlobals {
  __testRunLock?: { query(sql: string, values: unknown[]): Promise<unknown>; end(): Promise<void> };
}
