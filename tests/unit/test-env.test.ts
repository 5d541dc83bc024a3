import { workerDatabaseUrl, workerRedisUrl } from '../setup/env';

describe('a database and a Redis database per jest worker', () => {
  const db = 'postgres://postgres@127.0.0.1:5432/aller_vers_test';
  const redis = 'redis://127.0.0.1:6379/15';

  it('worker 1 (and a run in band) uses the given databases', () => {
    expect(workerDatabaseUrl(db, 1)).toBe(db);
    expect(workerRedisUrl(redis, 1)).toBe(redis);
  });

  it('worker k uses <database>_w<k> and the Redis database k - 1 below the given one', () => {
    expect(workerDatabaseUrl(db, 2)).toBe('postgres://postgres@127.0.0.1:5432/aller_vers_test_w2');
    expect(workerDatabaseUrl(`${db}?sslmode=disable`, 3)).toBe(
      'postgres://postgres@127.0.0.1:5432/aller_vers_test_w3?sslmode=disable',
    );
    expect(workerRedisUrl(redis, 2)).toBe('redis://127.0.0.1:6379/14');
  });

  it('refuses a worker that would fall below Redis database 0, saying what to change', () => {
    expect(() => workerRedisUrl('redis://127.0.0.1:6379/0', 2)).toThrow(/higher database index/);
  });
});
