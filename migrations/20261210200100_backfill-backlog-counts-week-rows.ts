import type { Knex } from 'knex';

/** The week rows of the files and follow-ups written before the triggers kept them. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('SELECT backlog_contact_counts_rebuild()');
  await knex.raw('SELECT backlog_follow_up_counts_rebuild()');
}

export async function down(): Promise<void> {
  // The previous migration's rollback deletes the week rows.
}
