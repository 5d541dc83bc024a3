import type { Knex } from 'knex';

/**
 * The backlog's no-contact buckets: an active person's last contact (or the file's creation when
 * none was logged) in a range, counted per referent or district from the index alone. The two
 * columns of the expression are included too: PostgreSQL answers from the index only when every
 * column a query names is in it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE INDEX persons_active_last_contact
      ON persons (structure_id, (coalesce(last_contact_at, created_at)))
      INCLUDE (last_contact_at, created_at, referent_id, district_id)
      WHERE closed_at IS NULL AND anonymised_at IS NULL`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS persons_active_last_contact');
}
