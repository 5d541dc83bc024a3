import type { Knex } from 'knex';

/**
 * One nightly retention run per structure and moment: each run plans the next one and the worker
 * makes sure every structure has one planned, both with ON CONFLICT DO NOTHING on this key (as
 * the daily digest).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    "CREATE UNIQUE INDEX deadlines_retention_once ON deadlines (subject_id, due_at) WHERE kind = 'retention.nightly' AND status <> 'cancelled'",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS deadlines_retention_once');
}
