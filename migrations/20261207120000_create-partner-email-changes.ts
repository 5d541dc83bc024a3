import type { Knex } from 'knex';

/**
 * A partner's new email waits here until it is confirmed from that address (a link valid 48
 * hours, single use): until then `partners.email` keeps the confirmed one, which every referral
 * email still goes to. Only the SHA-256 of the token is stored; the token is derived from the
 * row's id with LINK_SECRET, so the email job can rebuild it and a database leak gives none.
 * `old_email` is written at confirmation: the address told that its emails moved.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('partner_email_changes', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('partner_id').notNullable().references('partners.id').onDelete('CASCADE');
    // The owning structure whose admin asked: its deadlines and audit events.
    t.uuid('structure_id').notNullable().references('structures.id').onDelete('CASCADE');
    t.uuid('requested_by').references('users.id').onDelete('SET NULL');
    t.text('new_email').notNullable();
    t.text('old_email');
    t.text('token_hash').notNullable().unique();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('confirmed_at', { useTz: true });
    // A newer request for the same partner revokes the older ones.
    t.timestamp('revoked_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index(['partner_id', 'created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('partner_email_changes');
}
