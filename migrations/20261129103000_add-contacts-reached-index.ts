import type { Knex } from 'knex';

// The derived path status asks "has this person ever been reached?" for every listed person:
// a partial index answers it with one probe instead of a scan of all contacts (bench: search).
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    "CREATE INDEX contacts_reached_by_person ON contacts (person_id) WHERE outcome IN ('reached', 'appointment_set')",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS contacts_reached_by_person');
}
