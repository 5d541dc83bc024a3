import type { Knex } from 'knex';

/** Every referral transition, with its actor and time; append-only by use. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('referral_events', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('referral_id').notNullable().references('referrals.id').onDelete('CASCADE');
    t.uuid('structure_id').notNullable().references('structures.id').onDelete('RESTRICT');
    t.text('from_status');
    t.text('to_status').notNullable();
    // user (signed in), link (partner answering by signed link) or system (expiry, revocation).
    t.text('actor_kind').notNullable();
    t.uuid('actor_id').references('users.id').onDelete('SET NULL');
    t.text('reason_code');
    t.text('note_enc');
    t.timestamp('at', { useTz: true }).notNullable();
    t.index(['referral_id', 'at']);
  });
  await knex.raw(
    "ALTER TABLE referral_events ADD CONSTRAINT referral_events_actor_check CHECK (actor_kind IN ('user','link','system'))",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('referral_events');
}
