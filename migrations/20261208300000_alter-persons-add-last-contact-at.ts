import type { Knex } from 'knex';

/**
 * A person's last contact, derived from `contacts` (the truth) and kept in the same statement
 * by triggers, so that the backlog's no-contact buckets read an index instead of computing every
 * active person's max(occurred_at). Statement-level triggers with transition tables: one UPDATE
 * per statement whatever the number of rows (a bulk insert, an anonymisation, a merge moving
 * contacts). NULL when the person has no contact.
 *
 * - insert: the new maximum is the greatest of the stored one and the inserted rows' maximum;
 * - delete, or an update moving a contact to another person or in time: recomputed from the
 *   contacts left (by `contacts_person_id_occurred_at_index`).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE persons ADD COLUMN last_contact_at timestamptz');
  await knex.raw(`
    CREATE FUNCTION persons_last_contact_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE persons p SET last_contact_at = a.last_at
        FROM (SELECT person_id, max(occurred_at) AS last_at FROM added GROUP BY person_id) a
       WHERE p.id = a.person_id
         AND (p.last_contact_at IS NULL OR p.last_contact_at < a.last_at);
      RETURN NULL;
    END $$`);
  await knex.raw(`
    CREATE FUNCTION persons_last_contact_recompute() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        UPDATE persons p
           SET last_contact_at = (SELECT max(c.occurred_at) FROM contacts c WHERE c.person_id = p.id)
         WHERE p.id IN (SELECT person_id FROM removed);
      ELSE
        UPDATE persons p
           SET last_contact_at = (SELECT max(c.occurred_at) FROM contacts c WHERE c.person_id = p.id)
         WHERE p.id IN (
           SELECT o.person_id FROM removed o JOIN added n ON n.id = o.id
            WHERE o.person_id <> n.person_id OR o.occurred_at <> n.occurred_at
           UNION
           SELECT n.person_id FROM removed o JOIN added n ON n.id = o.id
            WHERE o.person_id <> n.person_id OR o.occurred_at <> n.occurred_at);
      END IF;
      RETURN NULL;
    END $$`);
  await knex.raw(`
    CREATE TRIGGER contacts_last_contact_insert AFTER INSERT ON contacts
      REFERENCING NEW TABLE AS added FOR EACH STATEMENT
      EXECUTE FUNCTION persons_last_contact_on_insert()`);
  await knex.raw(`
    CREATE TRIGGER contacts_last_contact_delete AFTER DELETE ON contacts
      REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
      EXECUTE FUNCTION persons_last_contact_recompute()`);
  await knex.raw(`
    CREATE TRIGGER contacts_last_contact_update AFTER UPDATE ON contacts
      REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT
      EXECUTE FUNCTION persons_last_contact_recompute()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS contacts_last_contact_update ON contacts');
  await knex.raw('DROP TRIGGER IF EXISTS contacts_last_contact_delete ON contacts');
  await knex.raw('DROP TRIGGER IF EXISTS contacts_last_contact_insert ON contacts');
  await knex.raw('DROP FUNCTION IF EXISTS persons_last_contact_recompute()');
  await knex.raw('DROP FUNCTION IF EXISTS persons_last_contact_on_insert()');
  await knex.raw('ALTER TABLE persons DROP COLUMN IF EXISTS last_contact_at');
}
