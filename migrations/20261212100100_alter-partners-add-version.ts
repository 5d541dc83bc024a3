import type { Knex } from 'knex';

/**
 * A partner's and a service's version, for optimistic concurrency as a person's: a partner's
 * moves with every change of its description or confirmed email, a service's with every change
 * of it, so an edit form read before such a change answers 409 instead of silently undoing it.
 */
export async function up(knex: Knex): Promise<void> {
  for (const table of ['partners', 'partner_services'])
    await knex.schema.alterTable(table, (t) => {
      t.integer('version').notNullable().defaultTo(1);
    });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['partners', 'partner_services'])
    await knex.schema.alterTable(table, (t) => {
      t.dropColumn('version');
    });
}
