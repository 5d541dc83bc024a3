import type { Knex } from 'knex';

const REACHED = "('reached', 'appointment_set')";

/**
 * A person's first successful contact (outcome reached or appointment set), derived from
 * `contacts` (the truth) and kept in the same statement by triggers, exactly like
 * `last_contact_at`: the observation's people statement reads it instead of computing every
 * person's min(occurred_at) over the reached contacts. NULL when the person was never reached.
 *
 * - insert: the new minimum is the least of the stored one and the inserted reached rows' minimum;
 * - delete, or an update moving a contact to another person or in time, or changing its
 *   outcome: recomputed from the contacts left (by `contacts_person_id_occurred_at_index`).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE persons ADD COLUMN first_reached_at timestamptz');
  await knex.raw(`
    CREATE FUNCTION persons_first_reached_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE persons p SET first_reached_at = a.first_at
        FROM (SELECT person_id, min(occurred_at) AS first_at FROM added
               WHERE outcome IN ${REACHED} GROUP BY person_id) a
       WHERE p.id = a.person_id
         AND (p.first_reached_at IS NULL OR p.first_reached_at > a.first_at);
      RETURN NULL;
    END $$`);
  await knex.raw(`
    CREATE FUNCTION persons_first_reached_recompute() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        UPDATE persons p
           SET first_reached_at = (SELECT min(c.occurred_at) FROM contacts c
                                    WHERE c.person_id = p.id AND c.outcome IN ${REACHED})
         WHERE p.id IN (SELECT person_id FROM removed WHERE outcome IN ${REACHED});
      ELSE
        UPDATE persons p
           SET first_reached_at = (SELECT min(c.occurred_at) FROM contacts c
                                    WHERE c.person_id = p.id AND c.outcome IN ${REACHED})
         WHERE p.id IN (
           SELECT o.person_id FROM removed o JOIN added n ON n.id = o.id
            WHERE o.person_id <> n.person_id OR o.occurred_at <> n.occurred_at
               OR o.outcome IS DISTINCT FROM n.outcome
           UNION
           SELECT n.person_id FROM removed o JOIN added n ON n.id = o.id
            WHERE o.person_id <> n.person_id OR o.occurred_at <> n.occurred_at
               OR o.outcome IS DISTINCT FROM n.outcome);
      END IF;
      RETURN NULL;
    END $$`);
  await knex.raw(`
    CREATE TRIGGER contacts_first_reached_insert AFTER INSERT ON contacts
      REFERENCING NEW TABLE AS added FOR EACH STATEMENT
      EXECUTE FUNCTION persons_first_reached_on_insert()`);
  await knex.raw(`
    CREATE TRIGGER contacts_first_reached_delete AFTER DELETE ON contacts
      REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
      EXECUTE FUNCTION persons_first_reached_recompute()`);
  await knex.raw(`
    CREATE TRIGGER contacts_first_reached_update AFTER UPDATE ON contacts
      REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT
      EXECUTE FUNCTION persons_first_reached_recompute()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS contacts_first_reached_update ON contacts');
  await knex.raw('DROP TRIGGER IF EXISTS contacts_first_reached_delete ON contacts');
  await knex.raw('DROP TRIGGER IF EXISTS contacts_first_reached_insert ON contacts');
  await knex.raw('DROP FUNCTION IF EXISTS persons_first_reached_recompute()');
  await knex.raw('DROP FUNCTION IF EXISTS persons_first_reached_on_insert()');
  await knex.raw('ALTER TABLE persons DROP COLUMN IF EXISTS first_reached_at');
}
