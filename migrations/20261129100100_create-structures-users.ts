import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('structures', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('slug').notNullable().unique();
    t.text('name').notNullable();
    t.text('city');
    t.jsonb('settings').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  // A partner organisation; referrals, services and consents come with their own migration.
  await knex.schema.createTable('partners', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable();
    t.text('email').notNullable();
    t.text('phone');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('structure_id').notNullable().references('structures.id').onDelete('RESTRICT');
    t.text('email').notNullable();
    t.text('name').notNullable();
    t.text('role').notNullable();
    t.uuid('partner_id').references('partners.id').onDelete('RESTRICT');
    t.text('password_hash').notNullable();
    // Bumped on password change or disabling: every session carrying an older epoch is refused.
    t.integer('session_epoch').notNullable().defaultTo(0);
    t.boolean('email_notifications').notNullable().defaultTo(true);
    t.text('totp_secret');
    t.timestamp('disabled_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['structure_id', 'role']);
  });
  await knex.raw('CREATE UNIQUE INDEX users_email_unique ON users (lower(email))');
  await knex.raw(
    "ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('worker','manager','partner','observer','admin'))",
  );
  await knex.raw(
    "ALTER TABLE users ADD CONSTRAINT users_partner_check CHECK ((role = 'partner') = (partner_id IS NOT NULL))",
  );

  await knex.schema.createTable('teams', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('structure_id').notNullable().references('structures.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.unique(['structure_id', 'name']);
  });
  await knex.schema.createTable('team_members', (t) => {
    t.uuid('team_id').notNullable().references('teams.id').onDelete('CASCADE');
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.boolean('is_lead').notNullable().defaultTo(false);
    t.primary(['team_id', 'user_id']);
  });

  await knex.schema.createTable('sessions', (t) => {
    t.string('sid').primary();
    t.json('sess').notNullable();
    t.timestamp('expired', { useTz: true }).notNullable().index();
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['sessions', 'team_members', 'teams', 'users', 'partners', 'structures']) {
    await knex.schema.dropTableIfExists(table);
  }
}
