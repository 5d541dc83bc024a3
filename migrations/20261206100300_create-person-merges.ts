import type { Knex } from 'knex';

/**
 * Two files of one person merged into one: the merged file's rows moved to the kept one and the
 * merged file's row was deleted, so its id answers 404 everywhere. This table remembers where
 * it went (the audit trail names the merged id; this leads to the file that holds its history
 * now). A kept file merged later into a third passes its merges on: `kept_person_id` always
 * names a file that exists, in the same structure (composite key).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('person_merges', (t) => {
    t.uuid('merged_person_id').primary();
    t.uuid('structure_id').notNullable().references('structures.id').onDelete('RESTRICT');
    t.uuid('kept_person_id').notNullable();
    t.uuid('merged_by').references('users.id').onDelete('SET NULL');
    t.timestamp('merged_at', { useTz: true }).notNullable();
    t.jsonb('moved').notNullable().defaultTo('{}');
    t.foreign(['structure_id', 'kept_person_id'], 'person_merges_kept_in_structure')
      .references(['structure_id', 'id'])
      .inTable('persons')
      .onDelete('RESTRICT');
    t.index(['structure_id', 'kept_person_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('person_merges');
}
