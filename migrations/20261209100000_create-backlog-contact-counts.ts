import type { Knex } from 'knex';

/**
 * The backlog's no-contact buckets without counting the dormant files one by one: the number of
 * active files (not closed, not anonymised) per referent and per district, in total and per UTC
 * day of their last contact (or of the file's creation when none was logged), kept by triggers
 * on persons in the same statement as the change, like `last_contact_at` itself.
 *
 * - `last_day` NULL is the group's total; a date is the files whose
 *   coalesce(last_contact_at, created_at) falls on that UTC day. The backlog reads the totals
 *   and the days since the oldest bucket boundary only (a few months of days per group, however
 *   many files sleep), and the persons of the partial day at each boundary from
 *   `persons_active_last_contact`: UTC days make the counts exact whatever the calendar's time
 *   zone, since a boundary at any instant splits at most one day.
 * - `group_id` NULL is the files without a referent (or district): the backlog's "none" group.
 * - Statement-level triggers with transition tables: the removed rows count -1, the added +1,
 *   netted per counter row and written in the unique key's order in one upsert (a bulk change
 *   of referents takes its row locks in a set order, so two of them cannot deadlock each other).
 *   Rows that fall to zero are kept: the read skips them.
 * - A write with triggers off (session_replication_role = replica, as the bench seed does)
 *   must call backlog_contact_counts_rebuild() afterwards.
 */
const ACTIVE = 'closed_at IS NULL AND anonymised_at IS NULL';

/** The counter rows a set of persons adds (`sign` 1) or removes (-1), netted, in key order. */
const upsert = (sources: { table: string; sign: number }[]) => `
  INSERT INTO backlog_contact_counts (structure_id, dimension, group_id, last_day, persons)
  SELECT c.structure_id, g.dimension, g.group_id, d.last_day, sum(c.sign)
    FROM (${sources
      .map(
        (s) => `SELECT structure_id, referent_id, district_id,
                 coalesce(last_contact_at, created_at) AS last_at, ${s.sign} AS sign
            FROM ${s.table} WHERE ${ACTIVE}`,
      )
      .join(' UNION ALL ')}) c
    CROSS JOIN LATERAL (VALUES ('referent', c.referent_id), ('district', c.district_id))
      g (dimension, group_id)
    CROSS JOIN LATERAL (VALUES (NULL::date), ((c.last_at AT TIME ZONE 'UTC')::date)) d (last_day)
   GROUP BY 1, 2, 3, 4
  HAVING sum(c.sign) <> 0
   ORDER BY 1, 2, 4, 3
  ON CONFLICT (structure_id, dimension, last_day, group_id)
  DO UPDATE SET persons = backlog_contact_counts.persons + excluded.persons`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE backlog_contact_counts (
      structure_id uuid NOT NULL,
      dimension text NOT NULL CHECK (dimension IN ('referent', 'district')),
      group_id uuid,
      last_day date,
      persons integer NOT NULL,
      CONSTRAINT backlog_contact_counts_key
        UNIQUE NULLS NOT DISTINCT (structure_id, dimension, last_day, group_id)
    )`);
  await knex.raw(`
    CREATE FUNCTION backlog_contact_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        ${upsert([{ table: 'added', sign: 1 }])};
      ELSIF TG_OP = 'DELETE' THEN
        ${upsert([{ table: 'removed', sign: -1 }])};
      ELSE
        ${upsert([
          { table: 'removed', sign: -1 },
          { table: 'added', sign: 1 },
        ])};
      END IF;
      RETURN NULL;
    END $$`);
  // The whole table again from persons, with writers kept out meanwhile.
  await knex.raw(`
    CREATE FUNCTION backlog_contact_counts_rebuild() RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      LOCK TABLE persons IN SHARE MODE;
      DELETE FROM backlog_contact_counts;
      ${upsert([{ table: 'persons', sign: 1 }])};
    END $$`);
  await knex.raw(`
    CREATE TRIGGER persons_backlog_counts_insert AFTER INSERT ON persons
      REFERENCING NEW TABLE AS added FOR EACH STATEMENT
      EXECUTE FUNCTION backlog_contact_counts_apply()`);
  await knex.raw(`
    CREATE TRIGGER persons_backlog_counts_delete AFTER DELETE ON persons
      REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
      EXECUTE FUNCTION backlog_contact_counts_apply()`);
  await knex.raw(`
    CREATE TRIGGER persons_backlog_counts_update AFTER UPDATE ON persons
      REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT
      EXECUTE FUNCTION backlog_contact_counts_apply()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS persons_backlog_counts_update ON persons');
  await knex.raw('DROP TRIGGER IF EXISTS persons_backlog_counts_delete ON persons');
  await knex.raw('DROP TRIGGER IF EXISTS persons_backlog_counts_insert ON persons');
  await knex.raw('DROP FUNCTION IF EXISTS backlog_contact_counts_rebuild()');
  await knex.raw('DROP FUNCTION IF EXISTS backlog_contact_counts_apply()');
  await knex.raw('DROP TABLE IF EXISTS backlog_contact_counts');
}
