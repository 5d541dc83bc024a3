import pg from 'pg';
import globalSetup from '../../setup/global-setup';
import { RUN_DATABASE_NAME, RUN_DATABASE_URL, TEST_RUN_LOCK } from '../../setup/env';

describe('one test run per test database', () => {
  it('when this run holds the test database, then a second run stops at once, naming the database', async () => {
    // This very run took the lock in its global setup: a second setup finds it taken.
    await expect(globalSetup()).rejects.toThrow(`Another test run is using ${RUN_DATABASE_NAME}`);
    const other = new pg.Client({ connectionString: RUN_DATABASE_URL });
    await other.connect();
    try {
      const { rows } = await other.query('SELECT pg_try_advisory_lock($1) AS locked', [
        TEST_RUN_LOCK,
      ]);
      expect(rows[0].locked).toBe(false);
    } finally {
      await other.end();
    }
  });
});
