import type { Knex } from 'knex';

/** Each person's last contact for the files written before the triggers kept it. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    UPDATE persons p SET last_contact_at = m.last_at
      FROM (SELECT person_id, max(occurred_at) AS last_at FROM contacts GROUP BY person_id) m
     WHERE p.id = m.person_id AND p.last_contact_at IS DISTINCT FROM m.last_at`);
}

export async function down(): Promise<void> {
  // The column goes with the previous migration's rollback.
}
