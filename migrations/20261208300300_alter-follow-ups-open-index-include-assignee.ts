import type { Knex } from 'knex';

/**
 * The backlog counts a structure's open follow-ups per assignee in ranges of due dates: with the
 * assignee (and the person, for the district grouping) in the index, the counts read the index
 * alone instead of a heap page per follow-up.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE INDEX follow_ups_open_by_structure_with_assignee
      ON follow_ups (structure_id, due_at) INCLUDE (assignee_id, person_id)
      WHERE status = 'open'`);
  await knex.raw('DROP INDEX follow_ups_open_by_structure');
  await knex.raw(
    'ALTER INDEX follow_ups_open_by_structure_with_assignee RENAME TO follow_ups_open_by_structure',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX follow_ups_open_by_structure');
  await knex.raw(
    "CREATE INDEX follow_ups_open_by_structure ON follow_ups (structure_id, due_at) WHERE status = 'open'",
  );
}
