import type { Knex } from 'knex';

/**
 * The one-time keys of creations (a page form's hidden field, the API's Idempotency-Key header):
 * a row is written in the transaction that creates, so a repeat of the request with the same key
 * creates nothing and answers with what the first created (`result`: its ids). The primary key
 * is the guard: of two requests in flight with one key, the second waits for the first's commit
 * and finds its row. `fingerprint` is the SHA-256 of the action and its input, which a repeat
 * must match. `structure_id` is the user's, for the nightly purge of rows older than a day.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idempotency_keys', (t) => {
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('key').notNullable();
    t.uuid('structure_id').notNullable().references('structures.id').onDelete('CASCADE');
    t.text('action').notNullable();
    t.text('fingerprint').notNullable();
    t.jsonb('result');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.primary(['user_id', 'key']);
    t.index(['structure_id', 'created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('idempotency_keys');
}
