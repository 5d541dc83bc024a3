import type { Knex } from 'knex';

/** Insertion order of referral events: two transitions may share a timestamp. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE referral_events ADD COLUMN seq bigserial NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE referral_events DROP COLUMN seq');
}
