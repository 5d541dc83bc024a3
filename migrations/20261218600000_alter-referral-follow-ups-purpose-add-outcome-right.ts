import type { Knex } from 'knex';

/**
 * A referral's outcome (completed or failed) asks the referent to update the right it served with
 * a follow-up of its own purpose, `outcome_right`, apart from the loop-closing `update_right`: a
 * loop-closing follow-up done before the partner answered must not stop the outcome's.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    'ALTER TABLE referral_follow_ups DROP CONSTRAINT IF EXISTS referral_follow_ups_purpose_check',
  );
  await knex.raw(
    "ALTER TABLE referral_follow_ups ADD CONSTRAINT referral_follow_ups_purpose_check CHECK (purpose IN ('reorient','update_right','outcome_right'))",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(
    'ALTER TABLE referral_follow_ups DROP CONSTRAINT IF EXISTS referral_follow_ups_purpose_check',
  );
  await knex.raw(
    "ALTER TABLE referral_follow_ups ADD CONSTRAINT referral_follow_ups_purpose_check CHECK (purpose IN ('reorient','update_right'))",
  );
}
