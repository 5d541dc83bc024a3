import type { Knex } from 'knex';

/**
 * A batch's claim (`deadlines.claimDue`) reads the pending, never-failed deadlines of one
 * structure and kind, due by now, latest first. With every condition in this index, PostgreSQL
 * reads the rows it locks in order and stops at the batch's size, whatever its statistics say.
 * Through `deadlines_pending` (due_at only) it had to filter the other structures and kinds, and
 * when its statistics predated a burst of deadlines (written since the last ANALYZE), it chose
 * to sort every due row instead: 2026-12-06, 100 000 deadlines due at once, 80 ms a claim alone
 * and 400 to 800 ms under load against 0.5 ms through this index.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE INDEX deadlines_claim ON deadlines (structure_id, kind, due_at)
      WHERE status = 'pending' AND attempts = 0`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX deadlines_claim');
}
