import type { Knex } from 'knex';

/** One row per email sent for a deadline: the dedupe key that makes a redelivered job harmless. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sent_emails', (t) => {
    t.uuid('deadline_id').primary().references('deadlines.id').onDelete('CASCADE');
    t.uuid('structure_id').notNullable().references('structures.id').onDelete('CASCADE');
    t.text('kind').notNullable();
    t.text('message_id').notNullable();
    t.timestamp('sent_at', { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('sent_emails');
}
