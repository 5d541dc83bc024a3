import type { Knex } from 'knex';

/** Structure settings are written with optimistic concurrency: a PATCH names the version it read. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('structures', (t) => {
    t.integer('settings_version').notNullable().defaultTo(1);
    t.timestamp('settings_updated_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('structures', (t) => {
    t.dropColumn('settings_updated_at');
    t.dropColumn('settings_version');
  });
}
