import type { Knex } from 'knex';

/**
 * Set-password links (an invitation, a new link sent by an admin, a forgotten password): valid
 * 48 hours, single use. Only the SHA-256 of the token is stored; the token itself is derived from
 * the row's id with LINK_SECRET, so the email job can rebuild it and a database leak gives none.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('password_links', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('structure_id').notNullable().references('structures.id').onDelete('CASCADE');
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('purpose').notNullable();
    t.text('token_hash').notNullable().unique();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
    // A newer link for the same user revokes the older ones.
    t.timestamp('revoked_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index(['user_id', 'created_at']);
  });
  await knex.raw(
    "ALTER TABLE password_links ADD CONSTRAINT password_links_purpose_check CHECK (purpose IN ('invite','reset'))",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('password_links');
}
