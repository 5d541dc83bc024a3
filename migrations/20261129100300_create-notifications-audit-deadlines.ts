import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notifications', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('structure_id').notNullable().references('structures.id').onDelete('CASCADE');
    t.uuid('recipient_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('kind').notNullable();
    t.text('subject_type').notNullable();
    t.uuid('subject_id').notNullable();
    t.timestamp('due_moment', { useTz: true }).notNullable();
    t.text('title').notNullable();
    t.text('body');
    t.text('link');
    t.timestamp('read_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // Sending twice is impossible: the key of a notification is what it is about and when.
    t.unique(['recipient_id', 'kind', 'subject_id', 'due_moment']);
    t.index(['recipient_id', 'created_at']);
  });

  await knex.schema.createTable('audit_events', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('structure_id').references('structures.id').onDelete('CASCADE');
    t.uuid('actor_id').references('users.id').onDelete('SET NULL');
    t.text('actor_role');
    t.text('action').notNullable();
    t.text('subject_type').notNullable();
    t.uuid('subject_id');
    t.text('ip');
    t.jsonb('details');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['structure_id', 'created_at']);
    t.index(['subject_type', 'subject_id']);
  });
  // Append-only: updates are refused; deletes only for the retention purge of rows older than
  // 12 months, which sets aller_vers.audit_purge for its own transaction.
  await knex.raw(`
    CREATE OR REPLACE FUNCTION audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE'
         AND current_setting('aller_vers.audit_purge', true) = 'on'
         AND OLD.created_at < now() - interval '12 months' THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'audit_events is append-only';
    END $$
  `);
  await knex.raw(`
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_guard()
  `);

  // Transactional outbox of every deadline and message: written in the transaction that causes
  // it, enqueued in BullMQ after commit, rebuilt from here by the reconciler.
  await knex.schema.createTable('deadlines', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('structure_id').notNullable().references('structures.id').onDelete('CASCADE');
    t.text('kind').notNullable();
    t.text('subject_type').notNullable();
    t.uuid('subject_id').notNullable();
    t.timestamp('due_at', { useTz: true }).notNullable();
    t.text('status').notNullable().defaultTo('pending');
    t.timestamp('enqueued_at', { useTz: true });
    t.timestamp('processed_at', { useTz: true });
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['subject_type', 'subject_id']);
  });
  await knex.raw(
    "ALTER TABLE deadlines ADD CONSTRAINT deadlines_status_check CHECK (status IN ('pending','done','cancelled','skipped','failed'))",
  );
  await knex.raw("CREATE INDEX deadlines_pending ON deadlines (due_at) WHERE status = 'pending'");
  await knex.raw(
    "CREATE INDEX deadlines_to_enqueue ON deadlines (created_at) WHERE status = 'pending' AND enqueued_at IS NULL",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('deadlines');
  await knex.raw('DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events');
  await knex.schema.dropTableIfExists('audit_events');
  await knex.raw('DROP FUNCTION IF EXISTS audit_events_guard()');
  await knex.schema.dropTableIfExists('notifications');
}
