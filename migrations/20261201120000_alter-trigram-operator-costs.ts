import type { Knex } from 'knex';

// The person search is `search_text LIKE '%term%' OR term <% search_text` within a structure.
// pg_trgm declares its word-similarity operator functions with the default cost of 1, so the
// planner believes computing word_similarity on every row is cheap and scans the table (~80 ms
// on 20 000 persons) instead of OR-ing two scans of the (structure_id, search_text) GIN index
// (~10 ms). Costing them like the real work they do lets the planner choose the index.
// bench: "GET /api/persons?q=lefevre". Altering an extension's function needs its owner: where
// the migration runs without that right, it says so and the search stays correct, only slower.
const FUNCTIONS = ['word_similarity_op(text, text)', 'word_similarity_commutator_op(text, text)'];

async function setCost(knex: Knex, cost: number): Promise<void> {
  const statements = FUNCTIONS.map((f) => `ALTER FUNCTION ${f} COST ${cost};`).join(' ');
  await knex.raw(`
    DO $$
    BEGIN
      ${statements}
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE WARNING 'pg_trgm operator costs left unchanged (not the owner of the extension): person search will not use its index as well';
    END
    $$;
  `);
}

export async function up(knex: Knex): Promise<void> {
  await setCost(knex, 100);
}

export async function down(knex: Knex): Promise<void> {
  await setCost(knex, 1);
}
