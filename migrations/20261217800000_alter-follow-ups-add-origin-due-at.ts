import type { Knex } from 'knex';

/**
 * A follow-up a reminder rule planned (no contact for 30 days) carries the moment of that rule,
 * unique per person: the rule acts once at a moment, whichever row of it runs (a copy of a rule
 * already played, written again at the same moment, plans nothing), where the origin deadline's
 * id (`follow_ups_origin_deadline`) only stops the same row from acting twice.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE follow_ups ADD COLUMN origin_due_at timestamptz');
  await knex.raw(
    'CREATE UNIQUE INDEX follow_ups_origin_moment ON follow_ups (person_id, origin_due_at) WHERE origin_due_at IS NOT NULL',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE follow_ups DROP COLUMN IF EXISTS origin_due_at');
}
