import crypto from 'node:crypto';
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

/** How many rows of `table` match `where` (all of them by default). */
export async function countRows(table: string, where: Record<string, unknown> = {}) {
  return Number((await testKnex()(table).where(where).count({ n: '*' }))[0].n);
}

export async function truncateAll(): Promise<void> {
  const knex = testKnex();
  const { rows } = await knex.raw<{ rows: { tablename: string }[] }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'knex_migrations%'",
  );
  if (rows.length === 0) return;
  // The audit trail refuses UPDATE, DELETE and TRUNCATE through triggers. The reset between test
  // files runs as a superuser with triggers off (replica role) for its own transaction only.
  await knex.transaction(async (trx) => {
    await trx.raw('SET LOCAL session_replication_role = replica');
    await trx.raw(`TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(', ')} CASCADE`);
  });
}

/**
 * Makes PostgreSQL refuse the inserts into `table` whose new row matches `match`, as a failure in
 * the middle of a transaction would. The trigger only ever hits the rows a test names; call the
 * returned function (in a finally) to drop it.
 */
export async function refuseInserts(
  table: string,
  match: Record<string, string>,
): Promise<() => Promise<void>> {
  const knex = testKnex();
  const name = `test_refuse_${crypto.randomBytes(4).toString('hex')}`;
  // DDL takes no bind parameters: the condition's values are quoted by knex on the client.
  const when = Object.entries(match)
    .map(([column, value]) => knex.raw('NEW.?? = ?', [column, value]).toQuery())
    .join(' AND ');
  await knex.raw(
    `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN RAISE EXCEPTION 'injected failure: % refused by the test', TG_TABLE_NAME; END $$`,
  );
  await knex.raw(
    `CREATE TRIGGER ${name} BEFORE INSERT ON ?? FOR EACH ROW WHEN (${when}) EXECUTE FUNCTION ${name}()`,
    [table],
  );
  return async () => {
    await knex.raw(`DROP TRIGGER IF EXISTS ${name} ON ??`, [table]);
    await knex.raw(`DROP FUNCTION IF EXISTS ${name}()`);
  };
}
