import type { Knex } from 'knex';

/**
 * A service's response delay becomes optional: NULL means the service sets none, and a referral
 * to it follows the referring structure's `referralResponseDays`. The column was NOT NULL with a
 * default of 5, so every service overrode the structure's setting, even one whose admin never
 * typed a delay. Its check (1 to 60 business days) stays and lets NULL through.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    'ALTER TABLE partner_services ALTER COLUMN response_delay_days DROP NOT NULL, ALTER COLUMN response_delay_days DROP DEFAULT',
  );
}

/** A service without a delay gets the old default back before the column refuses NULL again. */
export async function down(knex: Knex): Promise<void> {
  await knex('partner_services')
    .whereNull('response_delay_days')
    .update({ response_delay_days: 5 });
  await knex.raw(
    'ALTER TABLE partner_services ALTER COLUMN response_delay_days SET DEFAULT 5, ALTER COLUMN response_delay_days SET NOT NULL',
  );
}
