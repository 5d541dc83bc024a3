import type { Knex } from 'knex';

/**
 * A team's version, for optimistic concurrency as a person's: it moves with every change of the
 * team's name, members or leads, wherever it is made (the team's form, or a user's teams), so a
 * team form read before such a change answers 409 instead of silently undoing it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('teams', (t) => {
    t.integer('version').notNullable().defaultTo(1);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('teams', (t) => {
    t.dropColumn('version');
  });
}
