import type { Knex } from 'knex';

/**
 * The observation's period filters: persons first reached in the period (the people statement
 * reads those created in it by `(structure_id, created_at)`), and right events before the
 * period's end (the rights statement).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE INDEX persons_first_reached
      ON persons (structure_id, first_reached_at) WHERE first_reached_at IS NOT NULL`);
  await knex.raw(`
    CREATE INDEX person_right_events_structure_at ON person_right_events (structure_id, at)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS person_right_events_structure_at');
  await knex.raw('DROP INDEX IF EXISTS persons_first_reached');
}
