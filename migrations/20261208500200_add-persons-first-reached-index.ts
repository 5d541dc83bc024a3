import type { Knex } from 'knex';

/**
 * The observation's people statement: persons first reached in the period (those created in it
 * are read by `(structure_id, created_at)`). No index on right events' moment: the rights
 * statement reads every event before the period's end (each right's last status), and
 * `EXPLAIN` showed the planner leave a `(structure_id, at)` index unused.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE INDEX persons_first_reached
      ON persons (structure_id, first_reached_at) WHERE first_reached_at IS NOT NULL`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS persons_first_reached');
}
