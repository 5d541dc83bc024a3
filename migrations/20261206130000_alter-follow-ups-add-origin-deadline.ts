import type { Knex } from 'knex';

/**
 * A follow-up a reminder rule planned (no contact for 30 days) names the deadline that planned
 * it; unique, so a job run twice plans one follow-up.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('follow_ups', (t) => {
    t.uuid('origin_deadline_id').references('deadlines.id').onDelete('SET NULL');
  });
  await knex.raw(
    'CREATE UNIQUE INDEX follow_ups_origin_deadline ON follow_ups (origin_deadline_id) WHERE origin_deadline_id IS NOT NULL',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('follow_ups', (t) => {
    t.dropColumn('origin_deadline_id');
  });
}
