import type { Knex } from 'knex';

/**
 * The rule's moment of the follow-ups planned before it was kept: their origin deadline's. Where
 * a rule played again at the same moment already planned a second one, the first keeps the
 * moment and the others none (they stay as they are, open or not). One row per dormant file at
 * most, but those are many at scale: the statement timeout is lifted for this migration's own
 * transaction only.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('SET LOCAL statement_timeout = 0');
  await knex.raw(`
    UPDATE follow_ups f SET origin_due_at = o.due_at
      FROM (SELECT f2.id, d.due_at,
                   row_number() OVER (PARTITION BY f2.person_id, d.due_at
                                      ORDER BY f2.created_at, f2.id) AS n
              FROM follow_ups f2
              JOIN deadlines d ON d.id = f2.origin_deadline_id) o
     WHERE o.id = f.id AND o.n = 1`);
}

export async function down(): Promise<void> {
  // The column goes with the previous migration's rollback.
}
