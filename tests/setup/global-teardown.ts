import { TEST_RUN_LOCK, type TestRunGlobals } from './env';

/** Releases the test database for the next run (see holdTestDatabase in global-setup.ts). */
export default async function globalTeardown(): Promise<void> {
  const globals = globalThis as TestRunGlobals;
  const client = globals.__testRunLock;
  if (!client) return;
  delete globals.__testRunLock;
  await client.query('SELECT pg_advisory_unlock($1)', [TEST_RUN_LOCK]).catch(() => undefined);
  await client.end().catch(() => undefined);
}
