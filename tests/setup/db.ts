import knexFactory, { type Knex } from 'knex';
import { TEST_DATABASE_URL } from './env';

let shared: Knex | null = null;

/** A small pool for factories and assertions, separate from the app's own. */
export function testKnex(): Knex {
  shared ??= knexFactory({ client: 'pg', connection: TEST_DATABASE_URL, pool: { min: 0, max: 4 } });
  return shared;
}

afterAll(async () => {
  if (shared) {
    await shared.destroy();
    shared = null;
  }
});

export async function truncateAll(): Promise<void> {
  const knex = testKnex();
  const { rows } = await knex.raw<{ rows: { tablename: string }[] }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'knex_migrations%'",
  );
  if (rows.length === 0) return;
  // The audit trail refuses deletes; TRUNCATE does not fire row triggers.
  await knex.raw(`TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(', ')} CASCADE`);
}
