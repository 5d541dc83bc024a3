import type { Knex } from 'knex';

/** Each person's first successful contact for the files written before the triggers kept it. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    UPDATE persons p SET first_reached_at = m.first_at
      FROM (SELECT person_id, min(occurred_at) AS first_at FROM contacts
             WHERE outcome IN ('reached', 'appointment_set') GROUP BY person_id) m
     WHERE p.id = m.person_id AND p.first_reached_at IS DISTINCT FROM m.first_at`);
}

export async function down(): Promise<void> {
  // The column goes with the previous migration's rollback.
}
