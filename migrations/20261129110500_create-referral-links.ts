import type { Knex } from 'knex';

/**
 * Signed links for partners answering without an account. Only the SHA-256 of the token is
 * stored; each link has one purpose (respond, outcome), expires and is spent once used.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('referral_links', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('referral_id').notNullable().references('referrals.id').onDelete('CASCADE');
    t.text('token_hash').notNullable().unique();
    t.text('purpose').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['referral_id']);
  });
  await knex.raw(
    "ALTER TABLE referral_links ADD CONSTRAINT referral_links_purpose_check CHECK (purpose IN ('respond','outcome'))",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('referral_links');
}
