import type { Knex } from 'knex';

/**
 * The backlog's follow-up buckets (overdue 0–7, 8–30, 31+ days, due this week) without counting
 * the open follow-ups one by one: the number of open follow-ups per structure and assignee, in
 * total and per UTC day of their due date, kept by triggers on follow_ups in the same statement
 * as the change. The same design as `backlog_contact_counts` (migration 20261209100000):
 *
 * - `due_day` NULL is the assignee's total; a date is the open follow-ups due that UTC day. The
 *   backlog reads the totals and the days since the oldest bucket boundary (30 days back) only,
 *   and the follow-ups of the partial day at each boundary from `follow_ups_open_by_structure`.
 * - Statement-level triggers with transition tables: the removed rows count -1, the added +1
 *   (open ones only), netted per counter row and written in the unique key's order in one upsert.
 *   Completing, cancelling or reopening, reassigning, moving the due date, inserting and
 *   deleting (a person's deletion cascades here) all go through them. Rows that fall to zero
 *   are kept: the read skips them.
 * - A write with triggers off (session_replication_role = replica, as the bench seed does)
 *   must call backlog_follow_up_counts_rebuild() afterwards.
 */
const upsert = (sources: { table: string; sign: number }[]) => `
  INSERT INTO backlog_follow_up_counts (structure_id, assignee_id, due_day, follow_ups)
  SELECT c.structure_id, c.assignee_id, d.due_day, sum(c.sign)
    FROM (${sources
      .map(
        (s) => `SELECT structure_id, assignee_id, due_at, ${s.sign} AS sign
            FROM ${s.table} WHERE status = 'open'`,
      )
      .join(' UNION ALL ')}) c
    CROSS JOIN LATERAL (VALUES (NULL::date), ((c.due_at AT TIME ZONE 'UTC')::date)) d (due_day)
   GROUP BY 1, 2, 3
  HAVING sum(c.sign) <> 0
   ORDER BY 1, 3, 2
  ON CONFLICT (structure_id, due_day, assignee_id)
  DO UPDATE SET follow_ups = backlog_follow_up_counts.follow_ups + excluded.follow_ups`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE backlog_follow_up_counts (
      structure_id uuid NOT NULL,
      assignee_id uuid NOT NULL,
      due_day date,
      follow_ups integer NOT NULL,
      CONSTRAINT backlog_follow_up_counts_key
        UNIQUE NULLS NOT DISTINCT (structure_id, due_day, assignee_id)
    )`);
  await knex.raw(`
    CREATE FUNCTION backlog_follow_up_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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
  // The whole table again from follow_ups, with writers kept out meanwhile.
  await knex.raw(`
    CREATE FUNCTION backlog_follow_up_counts_rebuild() RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      LOCK TABLE follow_ups IN SHARE MODE;
      DELETE FROM backlog_follow_up_counts;
      ${upsert([{ table: 'follow_ups', sign: 1 }])};
    END $$`);
  await knex.raw(`
    CREATE TRIGGER follow_ups_backlog_counts_insert AFTER INSERT ON follow_ups
      REFERENCING NEW TABLE AS added FOR EACH STATEMENT
      EXECUTE FUNCTION backlog_follow_up_counts_apply()`);
  await knex.raw(`
    CREATE TRIGGER follow_ups_backlog_counts_delete AFTER DELETE ON follow_ups
      REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
      EXECUTE FUNCTION backlog_follow_up_counts_apply()`);
  await knex.raw(`
    CREATE TRIGGER follow_ups_backlog_counts_update AFTER UPDATE ON follow_ups
      REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT
      EXECUTE FUNCTION backlog_follow_up_counts_apply()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS follow_ups_backlog_counts_update ON follow_ups');
  await knex.raw('DROP TRIGGER IF EXISTS follow_ups_backlog_counts_delete ON follow_ups');
  await knex.raw('DROP TRIGGER IF EXISTS follow_ups_backlog_counts_insert ON follow_ups');
  await knex.raw('DROP FUNCTION IF EXISTS backlog_follow_up_counts_rebuild()');
  await knex.raw('DROP FUNCTION IF EXISTS backlog_follow_up_counts_apply()');
  await knex.raw('DROP TABLE IF EXISTS backlog_follow_up_counts');
}
