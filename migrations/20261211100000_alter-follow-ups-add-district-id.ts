import type { Knex } from 'knex';

/**
 * Each follow-up carries its person's district (`follow_ups.district_id`), derived from
 * `persons` (the truth) and kept in the same statement by triggers, as `persons.last_contact_at`
 * is kept from contacts: the backlog grouped by district then counts open follow-ups from the
 * follow-up index alone, where it looked up each one's person by primary key (at 1 M persons,
 * some 30 000 random reads of the persons heap, 1.7 s a request).
 *
 * - a follow-up inserted, or moved to another person (a merge), or its district_id set by hand:
 *   the district is read from its person (BEFORE, per row; the value written is ignored);
 * - a person's district changed (or cleared when its district is deleted): its follow-ups follow,
 *   per row and only when district_id is in the UPDATE's SET list, so the contact path (which
 *   moves the person's last contact) pays nothing.
 *
 * No foreign key: the column is a copy of persons.district_id, whose own key holds.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE follow_ups ADD COLUMN district_id uuid');
  await knex.raw(`
    CREATE FUNCTION follow_ups_person_district() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.district_id := (SELECT p.district_id FROM persons p WHERE p.id = NEW.person_id);
      RETURN NEW;
    END $$`);
  await knex.raw(`
    CREATE TRIGGER follow_ups_person_district
      BEFORE INSERT OR UPDATE OF person_id, district_id ON follow_ups
      FOR EACH ROW EXECUTE FUNCTION follow_ups_person_district()`);
  await knex.raw(`
    CREATE FUNCTION persons_district_to_follow_ups() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE follow_ups SET district_id = NEW.district_id
       WHERE person_id = NEW.id AND district_id IS DISTINCT FROM NEW.district_id;
      RETURN NULL;
    END $$`);
  await knex.raw(`
    CREATE TRIGGER persons_district_to_follow_ups
      AFTER UPDATE OF district_id ON persons
      FOR EACH ROW WHEN (OLD.district_id IS DISTINCT FROM NEW.district_id)
      EXECUTE FUNCTION persons_district_to_follow_ups()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS persons_district_to_follow_ups ON persons');
  await knex.raw('DROP FUNCTION IF EXISTS persons_district_to_follow_ups()');
  await knex.raw('DROP TRIGGER IF EXISTS follow_ups_person_district ON follow_ups');
  await knex.raw('DROP FUNCTION IF EXISTS follow_ups_person_district()');
  await knex.raw('ALTER TABLE follow_ups DROP COLUMN IF EXISTS district_id');
}
