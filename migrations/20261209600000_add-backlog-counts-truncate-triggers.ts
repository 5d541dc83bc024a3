import type { Knex } from 'knex';

/**
 * TRUNCATE fires no row trigger, so a `TRUNCATE persons` or `TRUNCATE follow_ups` would leave the
 * backlog's counters counting files and follow-ups that are gone. These statement triggers empty
 * the matching counters with the table (a TRUNCATE … CASCADE fires them for every table it
 * empties). Nothing in the app truncates; an operator or a test reset may.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION backlog_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_TABLE_NAME = 'persons' THEN
        DELETE FROM backlog_contact_counts;
      ELSE
        DELETE FROM backlog_follow_up_counts;
      END IF;
      RETURN NULL;
    END $$`);
  await knex.raw(`
    CREATE TRIGGER persons_backlog_counts_truncate AFTER TRUNCATE ON persons
      FOR EACH STATEMENT EXECUTE FUNCTION backlog_counts_truncated()`);
  await knex.raw(`
    CREATE TRIGGER follow_ups_backlog_counts_truncate AFTER TRUNCATE ON follow_ups
      FOR EACH STATEMENT EXECUTE FUNCTION backlog_counts_truncated()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS follow_ups_backlog_counts_truncate ON follow_ups');
  await knex.raw('DROP TRIGGER IF EXISTS persons_backlog_counts_truncate ON persons');
  await knex.raw('DROP FUNCTION IF EXISTS backlog_counts_truncated()');
}
