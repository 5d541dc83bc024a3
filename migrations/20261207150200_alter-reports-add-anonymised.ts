import type { Knex } from 'knex';

/**
 * A report whose text the retention run cleared (its file anonymised, or dismissed longer ago
 * than the structure's retention period) says so, so the run never counts it again.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('reports', (t) => {
    t.timestamp('anonymised_at', { useTz: true });
  });
  await knex.raw(
    "CREATE INDEX reports_dismissed_kept_idx ON reports (structure_id, triaged_at) WHERE triage_action = 'dismiss' AND anonymised_at IS NULL",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS reports_dismissed_kept_idx');
  await knex.schema.alterTable('reports', (t) => {
    t.dropColumn('anonymised_at');
  });
}
