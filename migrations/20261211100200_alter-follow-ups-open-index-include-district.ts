import type { Knex } from 'knex';

/**
 * The backlog's follow-up counts by district read the follow-up's district
 * (migration 20261211100000) from the index, with the assignee and the person: index-only.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE INDEX follow_ups_open_by_structure_with_district
      ON follow_ups (structure_id, due_at) INCLUDE (assignee_id, person_id, district_id)
      WHERE status = 'open'`);
  await knex.raw('DROP INDEX follow_ups_open_by_structure');
  await knex.raw(
    'ALTER INDEX follow_ups_open_by_structure_with_district RENAME TO follow_ups_open_by_structure',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE INDEX follow_ups_open_by_structure_with_assignee
      ON follow_ups (structure_id, due_at) INCLUDE (assignee_id, person_id)
      WHERE status = 'open'`);
  await knex.raw('DROP INDEX follow_ups_open_by_structure');
  await knex.raw(
    'ALTER INDEX follow_ups_open_by_structure_with_assignee RENAME TO follow_ups_open_by_structure',
  );
}
