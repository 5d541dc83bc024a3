import type { Knex } from 'knex';

/**
 * The observation's precomputed answers: for one structure and one period, the counts the three
 * aggregate statements gave at `computed_at` (before suppression, which runs at each read with
 * the threshold in force). `version` is the shape of `data`: a snapshot of another shape is
 * ignored and computed again. `read_at` (null: never read) tells the refresh which periods people look at.
 * Plus one `observation.refresh` run per structure and moment, as the digest and retention.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('observation_snapshots', (t) => {
    t.uuid('structure_id').notNullable().references('structures.id').onDelete('CASCADE');
    t.date('first_day').notNullable();
    t.date('last_day').notNullable();
    t.integer('version').notNullable();
    t.jsonb('data').notNullable();
    t.timestamp('computed_at', { useTz: true }).notNullable();
    t.timestamp('read_at', { useTz: true });
    t.primary(['structure_id', 'first_day', 'last_day']);
  });
  await knex.raw(
    "CREATE UNIQUE INDEX deadlines_observation_refresh_once ON deadlines (subject_id, due_at) WHERE kind = 'observation.refresh' AND status <> 'cancelled'",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS deadlines_observation_refresh_once');
  await knex.schema.dropTableIfExists('observation_snapshots');
}
