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
