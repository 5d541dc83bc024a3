import type { Knex } from 'knex';

/** The counters of the follow-ups written before the triggers kept them. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('SELECT backlog_follow_up_counts_rebuild()');
}

export async function down(): Promise<void> {
  // The table goes with the previous migration's rollback.
}
