import type { Knex } from 'knex';

/**
 * The catalogue of rights and aids, per structure: the national rights a CCAS meets and the
 * structure's own aids. A right is never deleted once in use: it is archived (archived_at).
 * (structure_id, id) is unique so that person rights and referrals can point at a right of their
 * own structure only.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('rights', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('structure_id').notNullable().references('structures.id').onDelete('CASCADE');
    t.text('code').notNullable();
    t.text('label').notNullable();
    t.text('kind').notNullable();
    t.timestamp('archived_at', { useTz: true });
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['structure_id', 'code']);
    t.unique(['structure_id', 'id']);
  });
  await knex.raw(
    "ALTER TABLE rights ADD CONSTRAINT rights_kind_check CHECK (kind IN ('national', 'local'))",
  );
  await knex.raw(
    "ALTER TABLE rights ADD CONSTRAINT rights_code_check CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$')",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('rights');
}
