import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('districts', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('structure_id').notNullable().references('structures.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.text('code');
    t.boolean('qpv').notNullable().defaultTo(false);
    t.unique(['structure_id', 'name']);
  });

  await knex.schema.createTable('persons', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('structure_id').notNullable().references('structures.id').onDelete('RESTRICT');
    t.text('alias');
    t.text('first_name');
    t.text('last_name');
    t.integer('birth_year');
    t.text('gender');
    t.text('phone');
    t.text('email');
    t.text('address');
    t.uuid('district_id').references('districts.id').onDelete('SET NULL');
    t.text('household_type');
    t.text('source').notNullable();
    t.uuid('referent_id').references('users.id').onDelete('SET NULL');
    t.boolean('pause_reminders').notNullable().defaultTo(false);
    // AES-256-GCM ciphertext (server/lib/crypto.ts), never plain text.
    t.text('situation_enc');
    t.timestamp('closed_at', { useTz: true });
    t.text('closed_reason');
    t.timestamp('anonymised_at', { useTz: true });
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('last_activity_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.uuid('created_by').references('users.id').onDelete('SET NULL');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['structure_id', 'last_activity_at']);
    t.index(['structure_id', 'referent_id']);
    t.index(['structure_id', 'district_id']);
  });
  await knex.raw(`
    ALTER TABLE persons ADD COLUMN search_text text GENERATED ALWAYS AS (
      av_normalize(coalesce(alias, '') || ' ' || coalesce(first_name, '') || ' ' || coalesce(last_name, ''))
    ) STORED
  `);
  await knex.raw(
    'CREATE INDEX persons_search_trgm ON persons USING gin (search_text gin_trgm_ops)',
  );
  await knex.raw(
    "ALTER TABLE persons ADD CONSTRAINT persons_source_check CHECK (source IN ('outreach','partner','neighbour','citizen_report','institution','self','elected_official'))",
  );
  await knex.raw(
    'ALTER TABLE persons ADD CONSTRAINT persons_identity_check CHECK (anonymised_at IS NOT NULL OR alias IS NOT NULL OR first_name IS NOT NULL OR last_name IS NOT NULL)',
  );

  await knex.schema.createTable('contacts', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('structure_id').notNullable().references('structures.id').onDelete('RESTRICT');
    t.uuid('person_id').notNullable().references('persons.id').onDelete('CASCADE');
    t.uuid('author_id').references('users.id').onDelete('SET NULL');
    t.timestamp('occurred_at', { useTz: true }).notNullable();
    t.text('channel').notNullable();
    t.text('outcome').notNullable();
    t.text('summary_enc');
    t.text('private_note_enc');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['person_id', 'occurred_at']);
  });
  await knex.raw(
    "ALTER TABLE contacts ADD CONSTRAINT contacts_channel_check CHECK (channel IN ('street','home_visit','phone','office','mail','email','sms','partner_meeting','video'))",
  );
  await knex.raw(
    "ALTER TABLE contacts ADD CONSTRAINT contacts_outcome_check CHECK (outcome IN ('reached','not_reached','refused','appointment_set'))",
  );

  await knex.schema.createTable('follow_ups', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('structure_id').notNullable().references('structures.id').onDelete('RESTRICT');
    t.uuid('person_id').notNullable().references('persons.id').onDelete('CASCADE');
    t.uuid('assignee_id').notNullable().references('users.id').onDelete('RESTRICT');
    t.uuid('created_by').references('users.id').onDelete('SET NULL');
    t.uuid('contact_id').references('contacts.id').onDelete('SET NULL');
    t.text('title').notNullable();
    t.timestamp('due_at', { useTz: true }).notNullable();
    t.text('status').notNullable().defaultTo('open');
    t.timestamp('completed_at', { useTz: true });
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['person_id', 'due_at']);
  });
  await knex.raw(
    "ALTER TABLE follow_ups ADD CONSTRAINT follow_ups_status_check CHECK (status IN ('open','done','cancelled'))",
  );
  // "My actions" and overdue lists read open follow-ups by assignee and due date.
  await knex.raw(
    "CREATE INDEX follow_ups_open_by_assignee ON follow_ups (assignee_id, due_at) WHERE status = 'open'",
  );
  await knex.raw(
    "CREATE INDEX follow_ups_open_by_structure ON follow_ups (structure_id, due_at) WHERE status = 'open'",
  );
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['follow_ups', 'contacts', 'persons', 'districts']) {
    await knex.schema.dropTableIfExists(table);
  }
}
