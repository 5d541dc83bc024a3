import type { Knex } from 'knex';

/**
 * One daily digest per structure and moment: the digest plans the next one itself and the
 * worker makes sure each structure has one planned, both with ON CONFLICT DO NOTHING on this key.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    "CREATE UNIQUE INDEX deadlines_digest_once ON deadlines (subject_id, due_at) WHERE kind = 'digest.daily' AND status <> 'cancelled'",
  );
  // The admins' page of deadlines in difficulty reads them per structure, newest first.
  await knex.raw(
    "CREATE INDEX deadlines_troubled ON deadlines (structure_id, due_at DESC) WHERE status = 'failed' OR (status = 'pending' AND attempts > 0)",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS deadlines_troubled');
  await knex.raw('DROP INDEX IF EXISTS deadlines_digest_once');
}
