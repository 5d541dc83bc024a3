import type { Knex } from 'knex';

/**
 * A partner's services, described with the data·inclusion vocabulary: thematiques
 * (e.g. "equipement-et-alimentation--alimentation"), publics, zone, modes d'accueil.
 * Not reviewed for 6 months, a service is stale and no longer offered for new referrals.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('partner_services', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('partner_id').notNullable().references('partners.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.text('description');
    t.specificType('themes', 'text[]').notNullable().defaultTo('{}');
    t.specificType('audience', 'text[]').notNullable().defaultTo('{}');
    t.text('area');
    t.text('how_to_reach');
    t.integer('response_delay_days').notNullable().defaultTo(5);
    t.timestamp('last_reviewed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['partner_id', 'name']);
  });
  await knex.raw(
    'ALTER TABLE partner_services ADD CONSTRAINT partner_services_delay_check CHECK (response_delay_days BETWEEN 1 AND 60)',
  );
  await knex.raw('CREATE INDEX partner_services_themes ON partner_services USING gin (themes)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('partner_services');
}
