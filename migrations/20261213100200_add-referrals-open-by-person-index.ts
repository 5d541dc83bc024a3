import type { Knex } from 'knex';

/**
 * The backlog grouped by partner starts with a structure's open referrals, one per person and
 * partner, with their person's copies (migration 20261213100000): this index gives them in that
 * order from the index alone (at 1 M persons, 35 000 entries), where a bitmap scan read the
 * referrals' heap and hashed them. The open statuses are written out, as a migration does not
 * change with the code: they are `OPEN_STATUSES` (referral-state.ts) as of this migration, and
 * `backlog-plan.test.ts` fails if the backlog's list no longer matches this index's.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('SET LOCAL statement_timeout = 0');
  await knex.raw(`
    CREATE INDEX referrals_open_by_person
      ON referrals (structure_id, person_id, partner_id)
      INCLUDE (person_last_at, person_active, person_referent_id)
      WHERE status IN ('requested', 'accepted', 'in_progress', 'on_hold')`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS referrals_open_by_person');
}
