import type { Knex } from 'knex';

/** The partner directory (data·inclusion vocabulary): where it acts and how to reach it. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('partners', (t) => {
    t.text('description');
    t.text('area');
    t.text('how_to_reach');
    t.text('website');
    t.timestamp('last_reviewed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('partners', (t) => {
    t.dropColumns('description', 'area', 'how_to_reach', 'website', 'last_reviewed_at');
  });
}
