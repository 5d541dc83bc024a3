import type { Knex } from 'knex';

/**
 * A person's right as it stands: its status (not claimed, claim in progress, obtained, refused,
 * abandoned), the Odenore reason of non-take-up, the monthly amount once obtained and a note
 * (encrypted). One row per person and right; every change is also kept in person_right_events.
 * Composite keys tie the person and the right to the row's structure.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('person_rights', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('structure_id').notNullable();
    t.uuid('person_id').notNullable();
    t.uuid('right_id').notNullable();
    t.text('status').notNullable();
    t.text('reason');
    t.integer('monthly_amount_cents');
    t.text('note_enc');
    t.integer('version').notNullable().defaultTo(1);
    t.uuid('updated_by');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['person_id', 'right_id']);
    t.foreign(['structure_id', 'person_id'], 'person_rights_person_in_structure')
      .references(['structure_id', 'id'])
      .inTable('persons')
      .onDelete('CASCADE');
    t.foreign(['structure_id', 'right_id'], 'person_rights_right_in_structure')
      .references(['structure_id', 'id'])
      .inTable('rights')
      .onDelete('RESTRICT');
    t.foreign('updated_by').references('users.id').onDelete('SET NULL');
  });
  await knex.raw(`ALTER TABLE person_rights
    ADD CONSTRAINT person_rights_status_check
      CHECK (status IN ('not_claimed', 'claim_in_progress', 'obtained', 'refused', 'abandoned')),
    ADD CONSTRAINT person_rights_reason_check
      CHECK ((status = 'not_claimed') = (reason IS NOT NULL)
             AND (reason IS NULL OR reason IN ('non_knowledge', 'non_request', 'non_receipt', 'non_proposal'))),
    ADD CONSTRAINT person_rights_amount_check
      CHECK (monthly_amount_cents IS NULL OR (status = 'obtained' AND monthly_amount_cents >= 0))`);
  // The persons list filters by right, right status and reason.
  await knex.raw(
    'CREATE INDEX person_rights_right_status_idx ON person_rights (structure_id, right_id, status)',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('person_rights');
}
