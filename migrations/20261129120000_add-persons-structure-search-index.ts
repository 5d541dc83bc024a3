import type { Knex } from 'knex';

// Every person search is scoped by structure. With two separate indexes the planner picks the
// structure one and computes trigram similarity row by row (~50 ms on 20 000 persons); one GIN
// index over (structure_id, search_text) answers both conditions (~2 ms). bench: search.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE EXTENSION IF NOT EXISTS btree_gin');
  await knex.raw(
    'CREATE INDEX persons_structure_search_trgm ON persons USING gin (structure_id, search_text gin_trgm_ops)',
  );
  await knex.raw('DROP INDEX IF EXISTS persons_search_trgm');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(
    'CREATE INDEX persons_search_trgm ON persons USING gin (search_text gin_trgm_ops)',
  );
  await knex.raw('DROP INDEX IF EXISTS persons_structure_search_trgm');
}
