import type { Knex } from 'knex';

/**
 * The audit trail is append-only: row triggers refuse UPDATE and DELETE, but TRUNCATE fires no
 * row trigger. A statement trigger refuses it too.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION audit_events_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_events is append-only: TRUNCATE refused';
    END $$
  `);
  await knex.raw(`
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_truncate()
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events');
  await knex.raw('DROP FUNCTION IF EXISTS audit_events_refuse_truncate()');
}
