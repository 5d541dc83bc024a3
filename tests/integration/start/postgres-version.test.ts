import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { down, up } from '../../../migrations/20261201100000_add-structure-scoped-references';
import { requireSupportedPostgres } from '../../../server/lib/postgres-version';
import { testKnex } from '../../setup/db';

/**
 * The structure-scoped references use `ON DELETE SET NULL (referent_id)`, PostgreSQL 15 syntax.
 * Only PostgreSQL 15 runs here, so an older server is played inside one rolled-back transaction:
 * a schema ahead of pg_catalog on the search path answers `current_setting` with 14.11's values.
 * (The embedded PGlite, PostgreSQL 18, runs this migration in start/pglite-start.test.ts.)
 */
describe('migrating on a PostgreSQL older than 15', () => {
  it('when the server is PostgreSQL 15 or later, then the check passes', async () => {
    await expect(requireSupportedPostgres(testKnex())).resolves.toBeUndefined();
  });

  it('when the server says it is 14.11, then the structure-scoped references migration fails with a clear message and changes nothing', async () => {
    const trx = await testKnex().transaction();
    try {
      // The schema as it stood before this migration (undone inside the transaction only):
      // every later migration is undone first, newest first, as `knex migrate:down` would.
      await undoMigrationsAfter(trx, '20261201100000_add-structure-scoped-references');
      await down(trx);
      await trx.raw('CREATE SCHEMA old_server');
      await trx.raw(`
        CREATE FUNCTION old_server.current_setting(name text) RETURNS text LANGUAGE sql AS $$
          SELECT CASE name WHEN 'server_version_num' THEN '140011'
                           WHEN 'server_version' THEN '14.11 (Debian 14.11-1.pgdg120+1)'
                           ELSE pg_catalog.current_setting(name) END
        $$`);
      await trx.raw('SET LOCAL search_path = old_server, pg_catalog, public');
      await expect(up(trx)).rejects.toThrow(
        'aller-vers needs PostgreSQL 15 or later; this server is 14.11',
      );
      // The check comes first: none of the migration's keys was added.
      const { rows } = await trx.raw<{ rows: { conname: string }[] }>(
        "SELECT conname FROM pg_constraint WHERE conname IN ('persons_structure_id_id_unique', 'persons_referent_id_in_structure')",
      );
      expect(rows).toEqual([]);
    } finally {
      await trx.rollback();
    }
  });
});

async function undoMigrationsAfter(trx: Knex.Transaction, name: string): Promise<void> {
  const dir = path.join(__dirname, '../../../migrations');
  const later = readdirSync(dir)
    .filter((file) => file.endsWith('.ts') && file.replace(/\.ts$/, '') > name)
    .sort()
    .reverse();
  for (const file of later) {
    const migration = (await import(path.join(dir, file))) as { down: (k: Knex) => Promise<void> };
    await migration.down(trx);
  }
}
