import type { Knex } from 'knex';

/**
 * Where the person was met or usually stays ("parvis de la médiathèque", "quai Ligny"),
 * searchable like the alias: the generated search text gains it, and the (structure_id,
 * search_text) trigram index is rebuilt over the new column. A generated column's expression
 * cannot change in place before PostgreSQL 17, so the column is dropped and added again (its
 * index goes with it).
 */
const searchText = (withPlace: boolean) => `
  ALTER TABLE persons ADD COLUMN search_text text GENERATED ALWAYS AS (
    av_normalize(coalesce(alias, '') || ' ' || coalesce(first_name, '') || ' ' || coalesce(last_name, '')${
      withPlace ? ` || ' ' || coalesce(place, '')` : ''
    })
  ) STORED`;

async function rebuild(knex: Knex, withPlace: boolean): Promise<void> {
  await knex.raw('ALTER TABLE persons DROP COLUMN search_text');
  await knex.raw(searchText(withPlace));
  await knex.raw(
    'CREATE INDEX persons_structure_search_trgm ON persons USING gin (structure_id, search_text gin_trgm_ops)',
  );
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('persons', (t) => {
    t.text('place');
  });
  await rebuild(knex, true);
}

export async function down(knex: Knex): Promise<void> {
  await rebuild(knex, false);
  await knex.schema.alterTable('persons', (t) => {
    t.dropColumn('place');
  });
}
