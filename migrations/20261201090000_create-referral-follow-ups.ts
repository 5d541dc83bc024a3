import type { Knex } from 'knex';

/**
 * The follow-ups a referral created on its own (re-refer after expiry, update the person's
 * right when the loop closes): at most one per referral and purpose, so a job that runs twice
 * plans one follow-up.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('referral_follow_ups', (t) => {
    t.uuid('referral_id').notNullable().references('referrals.id').onDelete('CASCADE');
    t.text('purpose').notNullable();
    t.uuid('follow_up_id').notNullable().references('follow_ups.id').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['referral_id', 'purpose']);
  });
  await knex.raw(
    "ALTER TABLE referral_follow_ups ADD CONSTRAINT referral_follow_ups_purpose_check CHECK (purpose IN ('reorient','update_right'))",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('referral_follow_ups');
}
