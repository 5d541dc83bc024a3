import type { Knex } from 'knex';

/** The duplicates check looks up files of one birth year within a structure. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    'CREATE INDEX persons_structure_birth_year ON persons (structure_id, birth_year) WHERE birth_year IS NOT NULL',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS persons_structure_birth_year');
}
