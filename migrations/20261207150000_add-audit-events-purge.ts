import type { Knex } from 'knex';

/**
 * The one way to delete audit events (spec §3: they are kept 12 months). The row trigger
 * `audit_events_guard` already lets a DELETE through only when `aller_vers.audit_purge` is on for
 * the transaction and the row is older than 12 months by the database's own clock. This
 * function is the only code that turns the setting on, for the one DELETE it runs, then off:
 * whatever cutoff the application passes, nothing younger than 12 months can go, and every other
 * DELETE, UPDATE or TRUNCATE is still refused. `structure` limits it to one structure's events
 * (and the events of no structure, such as failed logins); null purges every structure.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION audit_events_purge(cutoff timestamptz, structure uuid) RETURNS integer
    LANGUAGE plpgsql AS $$
    DECLARE purged integer;
    BEGIN
      PERFORM set_config('aller_vers.audit_purge', 'on', true);
      DELETE FROM audit_events
       WHERE created_at < least(cutoff, now() - interval '12 months')
         AND (structure IS NULL OR structure_id = structure OR structure_id IS NULL);
      GET DIAGNOSTICS purged = ROW_COUNT;
      PERFORM set_config('aller_vers.audit_purge', 'off', true);
      RETURN purged;
    END $$
  `);
  // The purge reads by age across structures; the who-read-this-file panel by subject and date.
  await knex.raw('CREATE INDEX audit_events_created_at_index ON audit_events (created_at)');
  await knex.raw(
    'CREATE INDEX audit_events_structure_subject_created_index ON audit_events (structure_id, subject_id, created_at DESC)',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS audit_events_structure_subject_created_index');
  await knex.raw('DROP INDEX IF EXISTS audit_events_created_at_index');
  await knex.raw('DROP FUNCTION IF EXISTS audit_events_purge(timestamptz, uuid)');
}
