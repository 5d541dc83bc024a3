import type { Knex } from 'knex';

/** A short note left when marking a follow-up done; AES-256-GCM ciphertext, like every free text. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('follow_ups', (t) => {
    t.text('completion_note_enc');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('follow_ups', (t) => {
    t.dropColumn('completion_note_enc');
  });
}
