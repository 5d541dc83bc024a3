import type { Knex } from 'knex';

/**
 * Each referral carries what the backlog grouped by partner asks of its person: the last contact
 * (or the file's creation when none was ever logged), whether the file is active (neither closed
 * nor anonymised) and its referent. These are copies of `persons` (the truth), kept in the same
 * statement by triggers, as `follow_ups.district_id` is: the no-contact counts by partner then read
 * the open referrals (35 000 at a million persons) instead of hashing the half-million files
 * without contact for 90 days to meet them (EXPLAIN at 1 M: 258 of the statement's 312 ms).
 *
 * - a referral inserted, or moved to another person (a merge), or a copy set by hand: the copies
 *   are read from its person (BEFORE, per row; the values written are ignored);
 * - a person's last contact, creation, closing, anonymisation or referent changed: its referrals
 *   follow, per row and only when one of those columns is in the UPDATE's SET list and what the
 *   referrals carry changes. A contact moves its person's last contact, so it pays one look-up of
 *   the person's referrals (`referrals_person_id_index`), and an update of them when it has some.
 *
 * The copy's read locks the person FOR SHARE: a change of the person in progress in another
 * transaction (whose trigger cannot see a referral not yet committed) is waited for, and the
 * copy read after its commit; a referral being written makes a change of its person wait in the
 * same way. The app already locks the person first for these writes, so it waits for nothing
 * new; a write made otherwise (a script, psql) at READ COMMITTED, PostgreSQL's default, cannot
 * leave a stale copy. (A change of the person in a REPEATABLE READ or SERIALIZABLE transaction,
 * which the app makes none of, would wait for the lock and then update the referrals its own
 * snapshot sees.) The follow-ups' copy of the district (migration 20261211100000) is read the
 * same way from now on.
 *
 * NULL only for a referral whose person does not exist, which its foreign key refuses.
 */
const PERSON_COPIES = `coalesce(p.last_contact_at, p.created_at),
  p.closed_at IS NULL AND p.anonymised_at IS NULL, p.referent_id`;

const followUpsDistrict = (lock: boolean) => `
  CREATE OR REPLACE FUNCTION follow_ups_person_district() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    NEW.district_id := (SELECT p.district_id FROM persons p WHERE p.id = NEW.person_id${lock ? ' FOR SHARE' : ''});
    RETURN NEW;
  END $$`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE referrals
      ADD COLUMN person_last_at timestamptz,
      ADD COLUMN person_active boolean,
      ADD COLUMN person_referent_id uuid`);
  await knex.raw(`
    CREATE FUNCTION referrals_person_copies() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      SELECT ${PERSON_COPIES}
        INTO NEW.person_last_at, NEW.person_active, NEW.person_referent_id
        FROM persons p WHERE p.id = NEW.person_id FOR SHARE;
      RETURN NEW;
    END $$`);
  await knex.raw(`
    CREATE TRIGGER referrals_person_copies
      BEFORE INSERT OR UPDATE OF person_id, person_last_at, person_active, person_referent_id
      ON referrals FOR EACH ROW EXECUTE FUNCTION referrals_person_copies()`);
  await knex.raw(`
    CREATE FUNCTION persons_copies_to_referrals() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE referrals r
         SET person_last_at = coalesce(NEW.last_contact_at, NEW.created_at),
             person_active = NEW.closed_at IS NULL AND NEW.anonymised_at IS NULL,
             person_referent_id = NEW.referent_id
       WHERE r.person_id = NEW.id
         AND (r.person_last_at, r.person_active, r.person_referent_id) IS DISTINCT FROM
             (coalesce(NEW.last_contact_at, NEW.created_at),
              NEW.closed_at IS NULL AND NEW.anonymised_at IS NULL, NEW.referent_id);
      RETURN NULL;
    END $$`);
  await knex.raw(`
    CREATE TRIGGER persons_copies_to_referrals
      AFTER UPDATE OF last_contact_at, created_at, closed_at, anonymised_at, referent_id ON persons
      FOR EACH ROW WHEN (
        coalesce(OLD.last_contact_at, OLD.created_at) IS DISTINCT FROM coalesce(NEW.last_contact_at, NEW.created_at)
        OR (OLD.closed_at IS NULL AND OLD.anonymised_at IS NULL) IS DISTINCT FROM (NEW.closed_at IS NULL AND NEW.anonymised_at IS NULL)
        OR OLD.referent_id IS DISTINCT FROM NEW.referent_id)
      EXECUTE FUNCTION persons_copies_to_referrals()`);
  await knex.raw(followUpsDistrict(true));
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(followUpsDistrict(false));
  await knex.raw('DROP TRIGGER IF EXISTS persons_copies_to_referrals ON persons');
  await knex.raw('DROP FUNCTION IF EXISTS persons_copies_to_referrals()');
  await knex.raw('DROP TRIGGER IF EXISTS referrals_person_copies ON referrals');
  await knex.raw('DROP FUNCTION IF EXISTS referrals_person_copies()');
  await knex.raw(`
    ALTER TABLE referrals
      DROP COLUMN IF EXISTS person_last_at,
      DROP COLUMN IF EXISTS person_active,
      DROP COLUMN IF EXISTS person_referent_id`);
}
