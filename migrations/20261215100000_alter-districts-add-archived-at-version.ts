import type { Knex } from 'knex';

/**
 * Districts become the admins' to manage (/admin/quartiers, /api/districts): a district is never
 * deleted, since persons, follow-ups and statistics name it, so it is archived instead
 * (`archived_at`: no longer offered for a new choice, kept where it is chosen); and its
 * `version`, for optimistic concurrency as the catalogue of rights has, so a form read before
 * another admin's change answers 409 instead of silently undoing it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('districts', (t) => {
    t.timestamp('archived_at', { useTz: true });
    t.integer('version').notNullable().defaultTo(1);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('districts', (t) => {
    t.dropColumn('version');
    t.dropColumn('archived_at');
  });
}
