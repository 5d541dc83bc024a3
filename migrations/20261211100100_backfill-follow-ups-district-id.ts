import type { Knex } from 'knex';

/**
 * Each follow-up's district for the rows written before the triggers kept it. At a million
 * persons that is a million and a half rows (about a minute here), past the app's statement
 * timeout: lifted for this migration's own transaction only.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('SET LOCAL statement_timeout = 0');
  await knex.raw(`
    UPDATE follow_ups f SET district_id = p.district_id
      FROM persons p
     WHERE p.id = f.person_id AND p.district_id IS NOT NULL
       AND f.district_id IS DISTINCT FROM p.district_id`);
}

export async function down(): Promise<void> {
  // The column goes with the previous migration's rollback.
}
