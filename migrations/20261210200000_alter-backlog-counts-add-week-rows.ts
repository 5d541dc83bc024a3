import type { Knex } from 'knex';

/**
 * The backlog's counters also per UTC week (Monday to Sunday), beside the day rows
 * (migrations 20261209100000 and 20261209500000): the rows since a boundary are the day rows up
 * to the next Monday, then whole weeks, so the backlog reads about 20 rows a group instead of
 * 90 days of contacts and 46 days of follow-ups due (a structure of 400 referents: 8 000 rows
 * instead of 36 000). `week` false is a day row (or the total, day NULL); true is the week
 * starting that Monday. The triggers write the three rows in the same upsert, in the key's
 * order; the rebuild functions recount them all (the next migration runs them).
 */
const monday = (day: string) => `${day} - (extract(isodow FROM ${day})::int - 1)`;

const contactUpsert = (sources: { table: string; sign: number }[]) => `
  INSERT INTO backlog_contact_counts (structure_id, dimension, group_id, week, last_day, persons)
  SELECT c.structure_id, g.dimension, g.group_id, d.week, d.last_day, sum(c.sign)
    FROM (${sources
      .map(
        (s) => `SELECT structure_id, referent_id, district_id,
                 (coalesce(last_contact_at, created_at) AT TIME ZONE 'UTC')::date AS day, ${s.sign} AS sign
            FROM ${s.table} WHERE closed_at IS NULL AND anonymised_at IS NULL`,
      )
      .join(' UNION ALL ')}) c
    CROSS JOIN LATERAL (VALUES ('referent', c.referent_id), ('district', c.district_id))
      g (dimension, group_id)
    CROSS JOIN LATERAL (VALUES (false, NULL::date), (false, c.day), (true, ${monday('c.day')}))
      d (week, last_day)
   GROUP BY 1, 2, 3, 4, 5
  HAVING sum(c.sign) <> 0
   ORDER BY 1, 2, 4, 5, 3
  ON CONFLICT (structure_id, dimension, week, last_day, group_id)
  DO UPDATE SET persons = backlog_contact_counts.persons + excluded.persons`;

const followUpUpsert = (sources: { table: string; sign: number }[]) => `
  INSERT INTO backlog_follow_up_counts (structure_id, assignee_id, week, due_day, follow_ups)
  SELECT c.structure_id, c.assignee_id, d.week, d.due_day, sum(c.sign)
    FROM (${sources
      .map(
        (s) => `SELECT structure_id, assignee_id, (due_at AT TIME ZONE 'UTC')::date AS day,
                 ${s.sign} AS sign
            FROM ${s.table} WHERE status = 'open'`,
      )
      .join(' UNION ALL ')}) c
    CROSS JOIN LATERAL (VALUES (false, NULL::date), (false, c.day), (true, ${monday('c.day')}))
      d (week, due_day)
   GROUP BY 1, 2, 3, 4
  HAVING sum(c.sign) <> 0
   ORDER BY 1, 3, 4, 2
  ON CONFLICT (structure_id, week, due_day, assignee_id)
  DO UPDATE SET follow_ups = backlog_follow_up_counts.follow_ups + excluded.follow_ups`;

/** The trigger function and the rebuild of a counter table, from its upsert. */
async function functions(
  knex: Knex,
  table: string,
  source: string,
  upsert: (sources: { table: string; sign: number }[]) => string,
) {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION ${table}_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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
  await knex.raw(`
    CREATE OR REPLACE FUNCTION ${table}_rebuild() RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      LOCK TABLE ${source} IN SHARE MODE;
      DELETE FROM ${table};
      ${upsert([{ table: source, sign: 1 }])};
    END $$`);
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE backlog_contact_counts
      ADD COLUMN week boolean NOT NULL DEFAULT false,
      DROP CONSTRAINT backlog_contact_counts_key,
      ADD CONSTRAINT backlog_contact_counts_key
        UNIQUE NULLS NOT DISTINCT (structure_id, dimension, week, last_day, group_id)`);
  await knex.raw(`
    ALTER TABLE backlog_follow_up_counts
      ADD COLUMN week boolean NOT NULL DEFAULT false,
      DROP CONSTRAINT backlog_follow_up_counts_key,
      ADD CONSTRAINT backlog_follow_up_counts_key
        UNIQUE NULLS NOT DISTINCT (structure_id, week, due_day, assignee_id)`);
  await functions(knex, 'backlog_contact_counts', 'persons', contactUpsert);
  await functions(knex, 'backlog_follow_up_counts', 'follow_ups', followUpUpsert);
}

/** Back to day rows only, as migrations 20261209100000 and 20261209500000 wrote them. */
const contactDays = (sources: { table: string; sign: number }[]) => `
  INSERT INTO backlog_contact_counts (structure_id, dimension, group_id, last_day, persons)
  SELECT c.structure_id, g.dimension, g.group_id, d.last_day, sum(c.sign)
    FROM (${sources
      .map(
        (s) => `SELECT structure_id, referent_id, district_id,
                 coalesce(last_contact_at, created_at) AS last_at, ${s.sign} AS sign
            FROM ${s.table} WHERE closed_at IS NULL AND anonymised_at IS NULL`,
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

const followUpDays = (sources: { table: string; sign: number }[]) => `
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

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DELETE FROM backlog_contact_counts WHERE week');
  await knex.raw('DELETE FROM backlog_follow_up_counts WHERE week');
  await knex.raw(`
    ALTER TABLE backlog_contact_counts
      DROP CONSTRAINT backlog_contact_counts_key,
      DROP COLUMN week,
      ADD CONSTRAINT backlog_contact_counts_key
        UNIQUE NULLS NOT DISTINCT (structure_id, dimension, last_day, group_id)`);
  await knex.raw(`
    ALTER TABLE backlog_follow_up_counts
      DROP CONSTRAINT backlog_follow_up_counts_key,
      DROP COLUMN week,
      ADD CONSTRAINT backlog_follow_up_counts_key
        UNIQUE NULLS NOT DISTINCT (structure_id, due_day, assignee_id)`);
  await functions(knex, 'backlog_contact_counts', 'persons', contactDays);
  await functions(knex, 'backlog_follow_up_counts', 'follow_ups', followUpDays);
}
