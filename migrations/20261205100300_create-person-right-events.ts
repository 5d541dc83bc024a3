import type { Knex } from 'knex';

/**
 * Every change of a person's right, kept: the history shown on the person's timeline and in
 * GET /api/persons/:id/rights. Written in the transaction of the change; never updated.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('person_right_events', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    // Orders changes made at one moment (a fixed clock, one transaction) as they were made.
    t.specificType('seq', 'bigint GENERATED ALWAYS AS IDENTITY').notNullable();
    t.uuid('structure_id').notNullable();
    t.uuid('person_id').notNullable();
    t.uuid('right_id').notNullable();
    t.text('from_status');
    t.text('status').notNullable();
    t.text('reason');
    t.integer('monthly_amount_cents');
    t.text('note_enc');
    t.uuid('actor_id');
    t.timestamp('at', { useTz: true }).notNullable();
    t.foreign(['structure_id', 'person_id'], 'person_right_events_person_in_structure')
      .references(['structure_id', 'id'])
      .inTable('persons')
      .onDelete('CASCADE');
    t.foreign(['structure_id', 'right_id'], 'person_right_events_right_in_structure')
      .references(['structure_id', 'id'])
      .inTable('rights')
      .onDelete('RESTRICT');
    t.foreign('actor_id').references('users.id').onDelete('SET NULL');
    t.index(['structure_id', 'person_id', 'at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('person_right_events');
}
