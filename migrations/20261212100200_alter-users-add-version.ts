import type { Knex } from 'knex';

/**
 * A user's version, for optimistic concurrency as a person's: it moves with every change an
 * administrator makes to the account (name, role, access, teams through the user's form), so a
 * user form read before such a change answers 409 instead of silently undoing it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.integer('version').notNullable().defaultTo(1);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('version');
  });
}
