import type { Knex } from 'knex';

/**
 * The backlog grouped by partner joins the active files without contact to the persons with an
 * active referral, by id: with the id in `persons_active_last_contact` that join reads the index
 * alone (EXPLAIN at 1 M persons: 1.5 s to 0.8 s; by district within a team, 355 ms to 180 ms).
 * Same key and condition, one more included column; no index is added, so a contact (which moves
 * the person's last contact, an indexed column) updates as many index entries as before.
 */
const create = (name: string, included: string) => `
  CREATE INDEX ${name}
    ON persons (structure_id, (coalesce(last_contact_at, created_at)))
    INCLUDE (${included})
    WHERE closed_at IS NULL AND anonymised_at IS NULL`;

async function replace(knex: Knex, included: string) {
  await knex.raw(create('persons_active_last_contact_next', included));
  await knex.raw('DROP INDEX persons_active_last_contact');
  await knex.raw(
    'ALTER INDEX persons_active_last_contact_next RENAME TO persons_active_last_contact',
  );
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw('SET LOCAL statement_timeout = 0');
  await replace(knex, 'last_contact_at, created_at, referent_id, district_id, id');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('SET LOCAL statement_timeout = 0');
  await replace(knex, 'last_contact_at, created_at, referent_id, district_id');
}
