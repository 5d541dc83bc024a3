import type { Knex } from 'knex';

/** A moved or rescheduled follow-up removes its notifications by subject. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX notifications_subject ON notifications (subject_id, kind)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS notifications_subject');
}
