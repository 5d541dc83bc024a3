import type { Knex } from 'knex';

/**
 * Reports (signalements): someone who may be in difficulty, signalled by a resident through the
 * public form or by a partner's staff from their inbox. The free text (where, who, the concern,
 * how to reach the reporter, the triage reason) is AES-256-GCM ciphertext, never plain text.
 * The receipt number is random (no personal data in it) and unique per structure.
 *
 * Triage is one event written on the row: when, by whom, what was decided (a new person, a link
 * to a known one, or dismissed with a reason). The report's status is derived from it. The
 * person it led to belongs to the same structure (composite key); a merge moves it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('reports', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('structure_id').notNullable().references('structures.id').onDelete('RESTRICT');
    t.text('receipt_number').notNullable();
    t.text('channel').notNullable();
    // The partner user who reported from their inbox; null for the public form.
    t.uuid('author_id').references('users.id').onDelete('SET NULL');
    t.text('location_enc').notNullable();
    t.text('who_enc');
    t.text('concern_enc').notNullable();
    t.text('reporter_contact_enc');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('triaged_at', { useTz: true });
    t.uuid('triaged_by').references('users.id').onDelete('SET NULL');
    t.text('triage_action');
    t.uuid('person_id');
    t.text('triage_reason_enc');
    t.unique(['structure_id', 'receipt_number']);
    t.foreign(['structure_id', 'person_id'], 'reports_person_in_structure')
      .references(['structure_id', 'id'])
      .inTable('persons')
      .onDelete('RESTRICT');
    t.index(['structure_id', 'created_at', 'id']);
    t.index(['author_id', 'created_at']);
    t.index(['structure_id', 'person_id']);
  });
  await knex.raw(
    "ALTER TABLE reports ADD CONSTRAINT reports_channel_check CHECK (channel IN ('public','partner'))",
  );
  await knex.raw(
    "ALTER TABLE reports ADD CONSTRAINT reports_triage_action_check CHECK (triage_action IN ('create_person','link','dismiss'))",
  );
  // Triage is all or nothing: a moment, an action, and what the action needs.
  await knex.raw(`ALTER TABLE reports ADD CONSTRAINT reports_triage_check CHECK (
    (triaged_at IS NULL AND triage_action IS NULL AND person_id IS NULL AND triage_reason_enc IS NULL)
    OR (triaged_at IS NOT NULL AND triage_action IN ('create_person','link') AND person_id IS NOT NULL)
    OR (triaged_at IS NOT NULL AND triage_action = 'dismiss' AND person_id IS NULL AND triage_reason_enc IS NOT NULL)
  )`);
  // The triage queue and the backlog read the reports waiting, oldest first.
  await knex.raw(
    'CREATE INDEX reports_waiting_idx ON reports (structure_id, created_at, id) WHERE triaged_at IS NULL',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('reports');
}
